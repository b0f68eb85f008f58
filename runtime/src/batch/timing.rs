//! Phase timings of the batch operator, and at the end the physical plan with each
//! operator's metrics, printed to stderr when the environment variable `FEATC_TIMING`
//! is set (to anything): the tool for finding where a slow training set spends its
//! time without a profiler. Off, it costs one env lookup.

use std::time::Instant;

/// Elapsed time per phase since the previous mark.
pub struct Phases {
    on: bool,
    last: Instant,
}

impl Phases {
    /// Starts the clock; prints nothing unless `FEATC_TIMING` is set.
    pub fn start() -> Phases {
        Phases {
            on: std::env::var_os("FEATC_TIMING").is_some(),
            last: Instant::now(),
        }
    }

    /// Prints `what` with the time since the previous mark, and restarts the clock.
    pub fn mark(&mut self, what: &str) {
        if self.on {
            let now = Instant::now();
            eprintln!(
                "featc timing: {what:<28} {:8.3} s",
                (now - self.last).as_secs_f64()
            );
            self.last = now;
        }
    }

    /// Prints `plan` with each operator's metrics (rows, compute time, spills) as the
    /// run left them: where the time went, operator by operator, and how many
    /// partitions each one ran in.
    pub fn plan(&self, plan: &dyn datafusion::physical_plan::ExecutionPlan) {
        if self.on {
            let shown =
                datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(plan)
                    .indent(true);
            eprintln!("featc timing: the plan as it ran\n{shown}");
        }
    }
}
