//! How far into the write-ahead log the state is, as a read sees it: every record
//! below `applied` is wholly in the state; none at or above `applying` is in it at
//! all. A read loads `applied` before it reads and `applying` after (`read`), so the
//! events it counted are those of the records below the first, plus perhaps part of
//! the step being applied meanwhile (up to the second). The served log keeps both
//! per read, so that `featc audit --state` recomputes a served value from exactly the
//! events the server had applied (its archive, `durable::archive`).
//!
//! Only a durable state numbers its records; in memory both stay unknown.

use std::sync::atomic::{AtomicU64, Ordering};

const UNKNOWN: u64 = u64::MAX;

/// The state's position in its log (see the module docs).
#[derive(Debug)]
pub struct LogProgress {
    applied: AtomicU64,
    applying: AtomicU64,
}

impl Default for LogProgress {
    fn default() -> LogProgress {
        LogProgress {
            applied: AtomicU64::new(UNKNOWN),
            applying: AtomicU64::new(UNKNOWN),
        }
    }
}

fn known(v: u64) -> Option<u64> {
    (v != UNKNOWN).then_some(v)
}

impl LogProgress {
    /// The state holds exactly the records below `next` (after recovery).
    pub(in crate::state) fn start_at(&self, next: u64) {
        self.applying.store(next, Ordering::Release);
        self.applied.store(next, Ordering::Release);
    }

    /// The records below `end` are about to be applied.
    pub(in crate::state) fn begin(&self, end: u64) {
        self.applying.store(end, Ordering::Release);
    }

    /// The records below `end` are applied.
    pub(in crate::state) fn done(&self, end: u64) {
        self.applied.store(end, Ordering::Release);
    }

    /// Read before a read: every record below it is in what the read sees.
    pub fn applied(&self) -> Option<u64> {
        known(self.applied.load(Ordering::Acquire))
    }

    /// Read after a read: no record at or above it is in what the read saw.
    pub fn applying(&self) -> Option<u64> {
        known(self.applying.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_between_begin_and_done_sees_the_step_as_possibly_applied() {
        let p = LogProgress::default();
        assert_eq!((p.applied(), p.applying()), (None, None));
        p.start_at(3);
        assert_eq!((p.applied(), p.applying()), (Some(3), Some(3)));
        p.begin(5);
        assert_eq!((p.applied(), p.applying()), (Some(3), Some(5)));
        p.done(5);
        assert_eq!((p.applied(), p.applying()), (Some(5), Some(5)));
    }
}
