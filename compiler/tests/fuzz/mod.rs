//! The all-stages fuzz harness: runs `stages::run` with each stage on a thread of its
//! own with a 2 MiB stack (so that unbounded recursion overflows here as it would on
//! a user's thread, aborting the process: proptest's fork mode turns that into a
//! failing case), times every stage, and turns panics (on any thread), slow stages
//! and hangs into errors.

#![allow(dead_code)]

pub mod batch;
pub mod child;
pub mod clock;
pub mod compare;
pub mod corpus;
pub mod data;
pub mod panics;
pub mod repro;
pub mod stages;

use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use featc::SourceFile;

use clock::{Clock, Event};
pub use stages::Outcome;

/// The most CPU time one stage may take in a debug build (`clock`: the process's,
/// so other work loading the machine does not count). Generous on purpose: the limit
/// is there to catch blowups (work quadratic or worse in a list's length or a
/// nesting depth, which these inputs push to hundreds), not to time anything; the
/// slowest stages take a few seconds on a 2-core machine.
pub const STAGE_LIMIT: Duration = Duration::from_secs(30);
/// How long the watchdog waits for a stage before calling it a hang (the stage
/// thread is then left running: it cannot be stopped from outside).
const HANG_LIMIT: Duration = Duration::from_secs(90);

/// Failures whose text holds one of these `|`-separated strings are let through, so
/// that a long run can look past a known, not yet fixed failure.
pub const KNOWN_VAR: &str = "FEATC_FUZZ_KNOWN";

fn known(failure: &str) -> bool {
    std::env::var(KNOWN_VAR).is_ok_and(|known| {
        known
            .split('|')
            .any(|k| !k.is_empty() && failure.contains(k))
    })
}

/// One case at a time: the panic record is global to the process.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs every stage on `files` (data drawn from `seed`); each line of `Err` is one
/// failure and names its class first: `panic`, `timing`, `hang`, `disagreement` or
/// `internal error`.
pub fn run(files: &[SourceFile], seed: u64) -> Result<Outcome, String> {
    match run_stages(files, seed) {
        Ok(outcome) => Ok(outcome),
        Err(failures) => {
            let (known, unknown): (Vec<String>, Vec<String>) =
                failures.into_iter().partition(|f| known(f));
            if unknown.is_empty() {
                Ok(Outcome::Known(known.join("\n")))
            } else {
                Err(unknown.join("\n"))
            }
        }
    }
}

fn run_stages(files: &[SourceFile], seed: u64) -> Result<Outcome, Vec<String>> {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    panics::install();
    panics::take();
    let (tx, rx) = channel();
    let owned = files.to_vec();
    // The stages' driver; each stage then runs on a thread of its own (`Clock`).
    let thread = std::thread::Builder::new()
        .name("fuzz-stages".into())
        .spawn(move || stages::run(&owned, seed, &Clock(tx)))
        .map_err(|e| vec![format!("cannot start the stage thread: {e}")])?;
    let mut current = "start";
    let mut slow = Vec::new();
    loop {
        match rx.recv_timeout(HANG_LIMIT) {
            Ok(Event::Start(stage)) => current = stage,
            Ok(Event::Done(stage, took)) if took > STAGE_LIMIT => slow.push(format!(
                "timing: stage `{stage}` took {:.1} s (limit {} s)",
                took.as_secs_f64(),
                STAGE_LIMIT.as_secs()
            )),
            Ok(Event::Done(..)) => {}
            Err(RecvTimeoutError::Timeout) => {
                slow.push(format!(
                    "hang: stage `{current}` did not finish within {} s",
                    HANG_LIMIT.as_secs()
                ));
                return Err(slow);
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let result = thread.join();
    let panics = panics::take();
    let mut failures = slow;
    if !panics.is_empty() {
        failures.push(format!("panic in stage `{current}`: {}", panics.join("\n")));
    }
    match result {
        Ok(Err(more)) => failures.extend(more),
        Ok(Ok(outcome)) if failures.is_empty() => return Ok(outcome),
        Ok(Ok(_)) => {}
        Err(_) if !panics.is_empty() => {}
        Err(_) => failures.push(format!(
            "panic in stage `{current}` (not recorded by the hook)"
        )),
    }
    Err(failures)
}
