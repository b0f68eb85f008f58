//! Positions of the sources read outside the log (Kafka today; any future one), as
//! opaque data. A source registers its `Position` under its kind's name; each round
//! of its records is a list of parts (a partition's batch), each with a `note`: what
//! applying that part moves the position by. The ledger logs the round (rows and
//! notes, in the same sequence as pushes), applies it, and hands the position the
//! note of every part applied, in that very step; a checkpoint (taken by the same
//! owner, between steps) saves every kind's position beside the state. A restart
//! re-applies the logged rounds after the checkpoint in their place among the pushes
//! and hands each kind the notes again (`register`), so the state and the positions
//! it is exact for always move together, and no part is applied twice: a part that
//! was applied moved its position with it. The core never knows what a note means.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::check::CheckedPush;

/// A source's position, saved in every checkpoint under its kind.
pub trait Position: Send + Sync {
    /// What the checkpoint records (read back by the source on a restart).
    fn save(&self) -> serde_json::Value;
    /// Moves the position past one applied part of a round (its `Part::note`): run by
    /// the ledger in the step that applies the part, and again on a restart for each
    /// logged part re-applied after the checkpoint.
    fn advance(&self, note: &serde_json::Value);
}

/// One round of a source's records, for `Ledger::apply_round`: applied whole, or (if
/// the log append fails, or a source is unknown) not at all.
pub struct Round {
    /// The kind of source: whose `Position` the notes move.
    pub kind: String,
    pub parts: Vec<Part>,
    /// (source, partition) of partitions silent for long: they stop holding their
    /// source's watermark back.
    pub idle: Vec<(String, i32)>,
}

/// A partition's share of a round.
pub struct Part {
    /// The partition of its source the records came from (the runtime keeps a
    /// watermark per partition).
    pub partition: i32,
    /// The source's canonical name.
    pub source: String,
    /// The checked rows; `None` when every record read was kept out (dead letters).
    pub batch: Option<CheckedPush>,
    /// Records read but not handed over, as dead letters (logged with the round,
    /// kept in the store when the part is applied): they count toward the next
    /// checkpoint like applied events (their positions move on).
    pub dead: Vec<crate::durable::DeadLetter>,
    /// What applying this part moves the source's position by (see `Position`).
    pub note: serde_json::Value,
}

/// The positions the ledger saves: those a checkpoint held (kept for kinds nobody
/// registered this run), the registered kinds' live ones, and the notes of applied
/// parts no registered position has taken yet.
#[derive(Default)]
pub(in crate::state) struct Positions {
    saved: BTreeMap<String, serde_json::Value>,
    /// By kind, notes of parts applied (re-applied from the log, or carried by the
    /// checkpoint) that its position has not taken: handed over at `register`, and
    /// saved with a checkpoint until then.
    pending: BTreeMap<String, Vec<serde_json::Value>>,
    live: Vec<(String, Arc<dyn Position>)>,
}

impl Positions {
    pub(in crate::state) fn from_saved(
        saved: BTreeMap<String, serde_json::Value>,
        pending: BTreeMap<String, Vec<serde_json::Value>>,
    ) -> Positions {
        Positions {
            saved,
            pending,
            live: Vec::new(),
        }
    }

    /// What the last checkpoint saved for `kind`.
    pub(in crate::state) fn saved(&self, kind: &str) -> Option<&serde_json::Value> {
        self.saved.get(kind)
    }

    /// From now on, `kind`'s position is `position`'s (replacing an earlier one); it
    /// first takes the notes of `kind` applied since what it was made from.
    pub(in crate::state) fn register(&mut self, kind: &str, position: Arc<dyn Position>) {
        for note in self.pending.remove(kind).unwrap_or_default() {
            position.advance(&note);
        }
        self.live.retain(|(k, _)| k != kind);
        self.live.push((kind.to_string(), position));
    }

    /// Moves `kind`'s position by `note` (kept for later when none is registered).
    pub(in crate::state) fn advance(&mut self, kind: &str, note: serde_json::Value) {
        match self.live.iter().find(|(k, _)| k == kind) {
            Some((_, position)) => position.advance(&note),
            None => self.pending.entry(kind.to_string()).or_default().push(note),
        }
    }

    /// Every kind's position now, and the notes not taken yet, for a checkpoint.
    pub(in crate::state) fn save(
        &self,
    ) -> (
        BTreeMap<String, serde_json::Value>,
        BTreeMap<String, Vec<serde_json::Value>>,
    ) {
        let mut all = self.saved.clone();
        for (kind, position) in &self.live {
            all.insert(kind.clone(), position.save());
        }
        (all, self.pending.clone())
    }
}
