//! The binaries' log: Ballista logs through the `log` facade; its info lines (tasks
//! received and finished, jobs planned and done) and above go to stderr, one line
//! each, with the time since start.

use std::io::Write;
use std::time::Instant;

use log::{Level, Log, Metadata, Record};

struct Stderr {
    started: Instant,
    level: Level,
}

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // A failed write to stderr has nowhere to be reported.
        let _ = writeln!(
            std::io::stderr().lock(),
            "{:>9.3}s {} {}: {}",
            self.started.elapsed().as_secs_f64(),
            record.level(),
            record.target(),
            record.args()
        );
    }

    fn flush(&self) {}
}

/// Logs at `level` and above to stderr (once per process; later calls do nothing).
pub fn init(level: Level) {
    let logger = Box::new(Stderr {
        started: Instant::now(),
        level,
    });
    if log::set_boxed_logger(logger).is_ok() {
        log::set_max_level(level.to_level_filter());
    }
}
