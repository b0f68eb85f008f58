//! Running one stage: on a thread of its own, named after the stage and with a
//! user's 2 MiB stack, timed in the process's CPU time, and announced to the watchdog
//! (`fuzz::run`).
//!
//! The thread's name is what makes an abort readable: a stack overflow kills the
//! process before any result can be returned, but the runtime's last words name the
//! thread ("thread 'stage plan' has overflowed its stack"), and a panic's report
//! names it too.

use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

/// A user's thread, or a test's: the stack every stage must fit.
pub const STACK_BYTES: usize = 2 * 1024 * 1024;

/// The prefix of a stage thread's name.
pub const THREAD_PREFIX: &str = "stage ";

/// What a stage tells the watchdog.
#[derive(Debug)]
pub enum Event {
    Start(&'static str),
    Done(&'static str, Duration),
}

/// Runs stages, announcing each one's start and duration.
pub struct Clock(pub Sender<Event>);

impl Clock {
    /// `f` on a fresh `STACK_BYTES` thread named after the stage; its panic is
    /// passed on to the caller.
    pub fn stage<T: Send>(&self, name: &'static str, f: impl FnOnce() -> T + Send) -> T {
        // A watchdog that stopped listening has already failed the case.
        let _ = self.0.send(Event::Start(name));
        let started = Instant::now();
        let cpu_started = process_cpu();
        let out = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name(format!("{THREAD_PREFIX}{name}"))
                .stack_size(STACK_BYTES)
                .spawn_scoped(scope, f)
                .expect("a stage thread starts")
                .join()
        });
        // CPU time, not wall time: the limit is there to catch blowups, and a wall
        // clock also counts the other builds and tests loading the machine (a stage
        // of 8 s alone took 31 s beside two parallel builds).
        let took = match (cpu_started, process_cpu()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => started.elapsed(),
        };
        let _ = self.0.send(Event::Done(name, took));
        match out {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// The CPU time the process has used (user and system, every thread); `None`
/// where it cannot be read.
fn process_cpu() -> Option<Duration> {
    cpu_time("/proc/self/stat")
}

/// The CPU time (user and system, every thread) of the process whose
/// `/proc/PID/stat` is `stat_path`, in clock ticks of 1/100 s (`USER_HZ` on Linux);
/// `None` where that file cannot be read.
pub fn cpu_time(stat_path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    // The command name (field 2) may hold spaces: fields are counted after its `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}
