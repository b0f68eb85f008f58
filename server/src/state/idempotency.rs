//! Idempotency keys: a push retried with the key of one already applied is answered
//! its first answer (`PushOutcome`, marked duplicate) and neither logged nor applied
//! again. The record is bounded (`IDEMPOTENCY_KEYS`, oldest forgotten first) and
//! saved in every checkpoint.

use std::collections::{HashMap, VecDeque};

use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::stream::{StreamError, StreamRuntime};

/// The answer to a push (also what a repeated idempotency key gets again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushOutcome {
    pub accepted: u64,
    pub late: u64,
    /// True when the idempotency key was seen before and nothing was applied now.
    pub duplicate: bool,
}

impl PushOutcome {
    /// Applies a checked push to `rt`: how many rows it took and how many were late.
    /// Live pushes and a restart's re-applied records go through here, so both count
    /// the same.
    pub(in crate::state) fn apply(
        rt: &mut StreamRuntime,
        source: &str,
        batch: &RecordBatch,
    ) -> Result<PushOutcome, StreamError> {
        let late_before = rt.late_events();
        rt.ingest(source, batch)?;
        Ok(PushOutcome {
            accepted: batch.num_rows() as u64,
            late: rt.late_events() - late_before,
            duplicate: false,
        })
    }
}

/// Recent pushes by idempotency key, bounded (oldest forgotten first).
#[derive(Debug, Default)]
pub struct Idempotency {
    by_key: HashMap<String, (u64, u64)>,
    order: VecDeque<String>,
}

/// How many idempotency keys the state remembers.
pub const IDEMPOTENCY_KEYS: usize = 100_000;

impl Idempotency {
    /// The first answer (accepted, late) of the push with `key`, if remembered.
    pub fn get(&self, key: &str) -> Option<(u64, u64)> {
        self.by_key.get(key).copied()
    }

    /// The answer a repeat of `key` gets: the first one, marked duplicate.
    pub fn repeat(&self, key: &str) -> Option<PushOutcome> {
        self.get(key).map(|(accepted, late)| PushOutcome {
            accepted,
            late,
            duplicate: true,
        })
    }

    pub fn insert(&mut self, key: String, accepted: u64, late: u64) {
        if self.by_key.insert(key.clone(), (accepted, late)).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > IDEMPOTENCY_KEYS {
            if let Some(old) = self.order.pop_front() {
                self.by_key.remove(&old);
            }
        }
    }

    /// Oldest first, for a checkpoint.
    pub fn entries(&self) -> Vec<(String, u64, u64)> {
        self.order
            .iter()
            .filter_map(|k| self.by_key.get(k).map(|&(a, l)| (k.clone(), a, l)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_keys_are_forgotten_first() {
        let mut keys = Idempotency::default();
        for i in 0..=IDEMPOTENCY_KEYS as u64 {
            keys.insert(format!("k{i}"), i, 0);
        }
        assert_eq!(keys.get("k0"), None);
        assert_eq!(keys.get("k1"), Some((1, 0)));
        let entries = keys.entries();
        assert_eq!(entries.len(), IDEMPOTENCY_KEYS);
        assert_eq!(entries.first().map(|e| e.0.as_str()), Some("k1"));
        assert_eq!(
            keys.repeat("k7"),
            Some(PushOutcome {
                accepted: 7,
                late: 0,
                duplicate: true
            })
        );
    }
}
