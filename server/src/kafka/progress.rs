//! How far the state has read the topics, as the Kafka source's `state::Position`
//! (registered under `KIND`): each partition's next offset, the counts of records
//! applied and dead-lettered over the state's life, and the latest dead records.
//! Each part of a round (one partition's records) carries a `KafkaNote`, logged with
//! the round; the ledger hands it to `Position::advance` in the writer's step that
//! applies the part, and again when a restart re-applies the logged round; every
//! checkpoint saves the progress (`KafkaState`, the JSON the checkpoint holds), and a
//! restart reads it back, so the counts stay exact across restarts and every record
//! counts once.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use super::decode::DeadRecord;
use crate::state::Position;

/// The kind the position is saved under in a checkpoint.
pub const KIND: &str = "kafka";

/// How many dead records the state keeps to show (all are counted).
pub const DEAD_KEPT: usize = 1_000;

/// Appends `dead` to `kept`, dropping the oldest beyond `DEAD_KEPT`.
pub fn keep_dead(kept: &mut VecDeque<DeadRecord>, dead: &[DeadRecord]) {
    kept.extend(dead.iter().cloned());
    let excess = kept.len().saturating_sub(DEAD_KEPT);
    kept.drain(..excess);
}

/// What a checkpoint records of the topics (the saved form of `KafkaProgress`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KafkaState {
    /// (topic, partition, next offset).
    pub positions: Vec<(String, i32, i64)>,
    pub records: u64,
    pub dead_total: u64,
    /// The latest `DEAD_KEPT` dead records, oldest first.
    pub dead: VecDeque<DeadRecord>,
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
    /// The latest `DEAD_KEPT` records kept out (all the progress keeps): a note, and
    /// the log with it, stays bounded whatever a round holds.
    pub dead: Vec<DeadRecord>,
    /// Records kept out beyond those in `dead` (counted, not listed).
    #[serde(default)]
    pub dead_unlisted: u64,
}

impl KafkaNote {
    /// The note of a part: `dead` cut to its latest `DEAD_KEPT`.
    pub fn new(
        topic: &str,
        partition: i32,
        next: i64,
        accepted: u64,
        mut dead: Vec<DeadRecord>,
    ) -> KafkaNote {
        let unlisted = dead.len().saturating_sub(DEAD_KEPT);
        dead.drain(..unlisted);
        KafkaNote {
            topic: topic.to_string(),
            partition,
            next,
            accepted,
            dead,
            dead_unlisted: unlisted as u64,
        }
    }

    /// Records kept out, listed or not.
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
}

/// The live position (see the module docs).
#[derive(Debug, Default)]
pub struct KafkaProgress {
    /// The next offset of each (topic, partition) whose records the state holds.
    positions: Mutex<BTreeMap<(String, i32), i64>>,
    /// The latest dead records, oldest first.
    dead: Mutex<VecDeque<DeadRecord>>,
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
            dead: Mutex::new(state.dead),
            counters: KafkaCounters {
                records: AtomicU64::new(state.records),
                dead: AtomicU64::new(state.dead_total),
                errors: AtomicU64::new(0),
            },
        })
    }

    /// Where to read each partition from next.
    pub fn positions(&self) -> BTreeMap<(String, i32), i64> {
        lock(&self.positions).clone()
    }

    /// The latest dead records, oldest first.
    pub fn dead_records(&self) -> Vec<DeadRecord> {
        lock(&self.dead).iter().cloned().collect()
    }

    /// Moves past a round: `accepted` records applied, `dead` dead-lettered, each
    /// partition read up to `positions` (run by the writer with the round applied).
    pub fn advance(
        &self,
        accepted: u64,
        dead: &[DeadRecord],
        positions: BTreeMap<(String, i32), i64>,
    ) {
        self.counters.records.fetch_add(accepted, Relaxed);
        self.counters.dead.fetch_add(dead.len() as u64, Relaxed);
        for d in dead.iter().take(3) {
            eprintln!(
                "featc serve: kafka: dead-lettered the record at {} (source `{}`): {}",
                d.at, d.source, d.reason
            );
        }
        lock(&self.positions).extend(positions);
        if !dead.is_empty() {
            keep_dead(&mut lock(&self.dead), dead);
        }
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
            dead: lock(&self.dead).clone(),
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
                self.counters.dead.fetch_add(n.dead_unlisted, Relaxed);
                self.advance(
                    n.accepted,
                    &n.dead,
                    [((n.topic, n.partition), n.next)].into_iter().collect(),
                );
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
    use crate::kafka::decode::RecordAt;

    #[test]
    fn a_saved_progress_reads_back_the_same() {
        let dead = DeadRecord {
            at: RecordAt {
                topic: "t".into(),
                partition: 1,
                offset: 9,
            },
            source: "s".into(),
            reason: "not JSON".into(),
            payload: "x".into(),
        };
        let progress = KafkaProgress::from_saved(None).unwrap();
        progress.advance(
            5,
            std::slice::from_ref(&dead),
            [(("t".to_string(), 1), 10)].into_iter().collect(),
        );
        let many = vec![dead.clone(); DEAD_KEPT + 2];
        let note = KafkaNote::new("t", 2, 4, 3, many);
        assert_eq!(
            (note.dead.len(), note.dead_count()),
            (DEAD_KEPT, DEAD_KEPT as u64 + 2)
        );
        Position::advance(&progress, &note.to_json());
        let saved = progress.save();
        let again = KafkaProgress::from_saved(Some(&saved)).unwrap();
        assert_eq!(again.state(), progress.state());
        assert_eq!(again.counters.records.load(Relaxed), 8);
        assert_eq!(again.positions().get(&("t".to_string(), 2)), Some(&4));
        assert_eq!(again.counters.dead.load(Relaxed), 1 + DEAD_KEPT as u64 + 2);
        assert_eq!(again.dead_records(), vec![dead; DEAD_KEPT]);
        assert_eq!(again.positions().get(&("t".to_string(), 1)), Some(&10));
    }
}
