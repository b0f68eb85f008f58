//! Running one stage: on a thread of its own, named after the stage and with a
//! user's 2 MiB stack, timed, and announced to the watchdog (`fuzz::run`).
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
        let out = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name(format!("{THREAD_PREFIX}{name}"))
                .stack_size(STACK_BYTES)
                .spawn_scoped(scope, f)
                .expect("a stage thread starts")
                .join()
        });
        let _ = self.0.send(Event::Done(name, started.elapsed()));
        match out {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
