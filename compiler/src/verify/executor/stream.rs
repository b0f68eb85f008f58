//! The streaming runtime as a path: events replayed in a disorder within the
//! sources' lateness, in chunks, each spine row answered from the online state.

use featc_runtime::stream::{replay, ReplayOptions, Selection};

use super::{Answered, Executor, Pending, RunInput};
use crate::verify::failure::RunError;

/// `lower_stream` and a replay with the dataset's disorder, chunks and seed.
pub struct StreamExecutor;

impl Executor for StreamExecutor {
    fn name(&self) -> &str {
        "stream"
    }

    fn run<'a>(&'a self, input: RunInput<'a>) -> Pending<'a> {
        Box::pin(async move {
            let graph = crate::lower::stream::lower_stream(input.project, input.features)
                .map_err(|e| e.to_string())?;
            let settings = input.dataset.settings;
            let options = ReplayOptions {
                disorder_us: settings.disorder_us,
                batch_size: settings.ingest_rows.max(1),
                seed: settings.seed,
                ..ReplayOptions::default()
            };
            let (table, report) = replay(
                graph,
                &input.dataset.sources,
                &input.dataset.spine,
                &input.dataset.spine_time,
                &Selection::All,
                &options,
            )
            .map_err(|e| RunError::of_stream(&e))?;
            // The disorder is within every source's lateness: a late event means the
            // runtime's lateness bookkeeping is wrong, whatever the values say.
            if report.metrics.late != 0 {
                return Err(RunError::Other(format!(
                    "{} events counted late in a replay within the declared lateness",
                    report.metrics.late
                )));
            }
            Ok(Answered::exact(table))
        })
    }
}
