//! Positions of the sources read outside the log (Kafka today; any future one), as
//! opaque data. A source registers its `Position` under its kind's name; each round
//! of its records carries an `advance` that the ledger runs in the very step that
//! applies the round's batches, and a checkpoint (taken by the same owner, between
//! steps) saves every kind's position beside the state: so the state and the
//! positions it is exact for are always saved together, and a restart hands each kind
//! back what it saved. The core never knows what a position means.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::check::CheckedPush;

/// A source's position, saved in every checkpoint under its kind.
pub trait Position: Send + Sync {
    /// What the checkpoint records (read back by the source on a restart).
    fn save(&self) -> serde_json::Value;
}

/// One round of a source's records, for `Ledger::apply_round`.
pub struct Round {
    /// The round's checked batches with the partition of their source each came from
    /// (the runtime keeps a watermark per partition).
    pub batches: Vec<(i32, CheckedPush)>,
    /// (source, partition) of partitions silent for long: they stop holding their
    /// source's watermark back.
    pub idle: Vec<(String, i32)>,
    /// Records the round read but did not hand over (dead letters): they count
    /// toward the next checkpoint like applied events (their positions move on).
    pub skipped: u64,
    /// Moves the source's position past the round; run by the ledger once the
    /// batches are applied, in the same step (never when they are not).
    pub advance: Box<dyn FnOnce() + Send>,
}

/// The positions the ledger saves: those a checkpoint held (kept for kinds nobody
/// registered this run) and the registered kinds' live ones.
#[derive(Default)]
pub(in crate::state) struct Positions {
    saved: BTreeMap<String, serde_json::Value>,
    live: Vec<(String, Arc<dyn Position>)>,
}

impl Positions {
    pub(in crate::state) fn from_saved(saved: BTreeMap<String, serde_json::Value>) -> Positions {
        Positions {
            saved,
            live: Vec::new(),
        }
    }

    /// What the last checkpoint saved for `kind`.
    pub(in crate::state) fn saved(&self, kind: &str) -> Option<&serde_json::Value> {
        self.saved.get(kind)
    }

    /// From now on, `kind`'s position is `position`'s (replacing an earlier one).
    pub(in crate::state) fn register(&mut self, kind: &str, position: Arc<dyn Position>) {
        self.live.retain(|(k, _)| k != kind);
        self.live.push((kind.to_string(), position));
    }

    /// Every kind's position now, for a checkpoint.
    pub(in crate::state) fn save(&self) -> BTreeMap<String, serde_json::Value> {
        let mut all = self.saved.clone();
        for (kind, position) in &self.live {
            all.insert(kind.clone(), position.save());
        }
        all
    }
}
