//! How far the state has read the topics, as the Kafka source's `state::Position`
//! (registered under `KIND`): each partition's next offset, and the counts of records
//! applied and dead-lettered over the state's life (the dead records themselves go to
//! the state's dead-letter store, logged with their round: `state::Part::dead`).
//! Each part of a round (one partition's records) carries a `KafkaNote`, logged with
//! the round; the ledger hands it to `Position::advance` in the writer's step that
//! applies the part, and again when a restart re-applies the logged round; every
//! checkpoint saves the progress (`KafkaState`, the JSON the checkpoint holds), and a
//! restart reads it back, so the counts stay exact across restarts and every record
//! counts once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use super::decode::DeadRecord;
use crate::state::Position;

/// The kind the position is saved under in a checkpoint.
pub const KIND: &str = "kafka";

/// What a checkpoint records of the topics (the saved form of `KafkaProgress`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KafkaState {
    /// (topic, partition, next offset).
    pub positions: Vec<(String, i32, i64)>,
    pub records: u64,
    pub dead_total: u64,
    /// Checkpoints written before the dead-letter store kept the latest dead records
    /// here; read and carried forward, no longer listed (they stay counted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dead: Vec<DeadRecord>,
}

/// What one applied part of a round (a partition's records) moves the progress by:
/// the note logged with the part (`state::Part::note`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KafkaNote {
    pub topic: String,
    pub partition: i32,
    /// The partition's next offset after the part.
    pub next: i64,
    /// Records applied.
    pub accepted: u64,
    /// Rounds logged before the dead-letter store listed up to 1 000 records kept
    /// out here; read, counted, never written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dead: Vec<DeadRecord>,
    /// Records kept out (besides those in `dead`).
    #[serde(default)]
    pub dead_unlisted: u64,
}

impl KafkaNote {
    /// The note of a part: `dead` records kept out.
    pub fn new(topic: &str, partition: i32, next: i64, accepted: u64, dead: u64) -> KafkaNote {
        KafkaNote {
            topic: topic.to_string(),
            partition,
            next,
            accepted,
            dead: Vec::new(),
            dead_unlisted: dead,
        }
    }

    /// Records kept out.
    pub fn dead_count(&self) -> u64 {
        self.dead.len() as u64 + self.dead_unlisted
    }

    pub fn to_json(&self) -> serde_json::Value {
        // Plain data (strings, numbers, lists): serializing it cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The Kafka source's counters for `/metrics` (records and dead records over the
/// state's life, consumer failures since the process started).
#[derive(Debug, Default)]
pub struct KafkaCounters {
    pub records: AtomicU64,
    pub dead: AtomicU64,
    /// Times the consumer failed and started again.
    pub errors: AtomicU64,
    /// Group mode: holes the broker served in an internal partition, each read again
    /// (`forwarded`), and those still there after every read, skipped.
    pub holes: AtomicU64,
    pub holes_skipped: AtomicU64,
}

/// The live position (see the module docs).
#[derive(Debug, Default)]
pub struct KafkaProgress {
    /// The next offset of each (topic, partition) whose records the state holds.
    positions: Mutex<BTreeMap<(String, i32), i64>>,
    /// Dead records a checkpoint from before the dead-letter store held (carried).
    legacy_dead: Vec<DeadRecord>,
    pub counters: KafkaCounters,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl KafkaProgress {
    /// The progress a checkpoint saved (`None`: the state never read a topic).
    pub fn from_saved(
        saved: Option<&serde_json::Value>,
    ) -> Result<KafkaProgress, serde_json::Error> {
        let state: KafkaState = match saved {
            Some(value) => serde_json::from_value(value.clone())?,
            None => KafkaState::default(),
        };
        Ok(KafkaProgress {
            positions: Mutex::new(
                state
                    .positions
                    .into_iter()
                    .map(|(t, p, o)| ((t, p), o))
                    .collect(),
            ),
            legacy_dead: state.dead,
            counters: KafkaCounters {
                records: AtomicU64::new(state.records),
                dead: AtomicU64::new(state.dead_total),
                errors: AtomicU64::new(0),
                holes: AtomicU64::new(0),
                holes_skipped: AtomicU64::new(0),
            },
        })
    }

    /// Where to read each partition from next.
    pub fn positions(&self) -> BTreeMap<(String, i32), i64> {
        lock(&self.positions).clone()
    }

    /// Moves past a round's part: `accepted` records applied, `dead` kept out, each
    /// partition read up to `positions` (run by the writer with the part applied).
    pub fn advance(&self, accepted: u64, dead: u64, positions: BTreeMap<(String, i32), i64>) {
        self.counters.records.fetch_add(accepted, Relaxed);
        self.counters.dead.fetch_add(dead, Relaxed);
        lock(&self.positions).extend(positions);
    }

    /// The saved form, now.
    pub fn state(&self) -> KafkaState {
        KafkaState {
            positions: lock(&self.positions)
                .iter()
                .map(|((t, p), o)| (t.clone(), *p, *o))
                .collect(),
            records: self.counters.records.load(Relaxed),
            dead_total: self.counters.dead.load(Relaxed),
            dead: self.legacy_dead.clone(),
        }
    }
}

impl Position for KafkaProgress {
    fn save(&self) -> serde_json::Value {
        // Plain data (strings, numbers, lists): serializing it cannot fail.
        serde_json::to_value(self.state()).unwrap_or_default()
    }

    fn advance(&self, note: &serde_json::Value) {
        match serde_json::from_value::<KafkaNote>(note.clone()) {
            Ok(n) => {
                let dead = n.dead_count();
                let at = [((n.topic, n.partition), n.next)].into_iter().collect();
                self.advance(n.accepted, dead, at);
            }
            // Written by `KafkaNote::to_json` and checksummed in the log: a note that
            // does not read back is reported, never guessed at.
            Err(e) => eprintln!("featc serve: kafka: a logged round's note is unreadable: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_progress_reads_back_the_same() {
        let progress = KafkaProgress::from_saved(None).unwrap();
        progress.advance(5, 1, [(("t".to_string(), 1), 10)].into_iter().collect());
        let note = KafkaNote::new("t", 2, 4, 3, 7);
        Position::advance(&progress, &note.to_json());
        let saved = progress.save();
        let again = KafkaProgress::from_saved(Some(&saved)).unwrap();
        assert_eq!(again.state(), progress.state());
        assert_eq!(again.counters.records.load(Relaxed), 8);
        assert_eq!(again.positions().get(&("t".to_string(), 2)), Some(&4));
        assert_eq!(again.counters.dead.load(Relaxed), 8);
        assert_eq!(again.positions().get(&("t".to_string(), 1)), Some(&10));
    }

    /// A note logged before the dead-letter store listed its records; they count.
    #[test]
    fn a_note_with_listed_records_counts_them() {
        let old = serde_json::json!({
            "topic": "t", "partition": 0, "next": 3, "accepted": 1,
            "dead": [{"at": {"topic": "t", "partition": 0, "offset": 1}, "source": "s",
                      "reason": "not JSON", "payload": "x"}],
            "dead_unlisted": 2,
        });
        let progress = KafkaProgress::from_saved(None).unwrap();
        Position::advance(&progress, &old);
        assert_eq!(progress.counters.dead.load(Relaxed), 3);
    }
}
