//! The write side of the core, owned by exactly one driver at a time (the server's
//! writer thread, or the embedded store on its caller's thread): the one durable
//! push protocol. A group of checked pushes is committed in five steps: repeated
//! idempotency keys answered from the record (neither logged nor applied), the rest
//! encoded and appended to the log with ONE fsync, applied to every copy in log
//! order, their keys remembered, answered. Rounds of sources read outside the log
//! (Kafka) are applied with their position moved in the same step. Checkpoints are
//! taken here too, between steps, so the log order, the apply order, the positions
//! and a checkpoint's coverage are one sequence: a restart re-applies exactly the
//! records after the checkpoint and re-reads each source from its saved position.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::record_batch::RecordBatch;

use super::check::CheckedPush;
use super::error::PushError;
use super::idempotency::{Idempotency, PushOutcome};
use super::online::OnlineState;
use super::positions::{Position, Positions, Round};
use crate::durable::{checkpoint, record, snapshot, DurableError, Header, StateDir};

/// The batches a step applied (source, rows), for whoever watches the state change.
pub type Applied = Vec<(String, RecordBatch)>;

/// What committing a group gives: one answer per push, in the group's order, and the
/// batches applied.
pub struct Committed {
    pub answers: Vec<Result<PushOutcome, PushError>>,
    pub applied: Applied,
}

/// The write side (see the module docs).
pub struct Ledger {
    /// The state directory; `None`: in memory only.
    dir: Option<StateDir>,
    pushes: Idempotency,
    /// Whether the state includes the sources' history (`--bootstrap`).
    bootstrapped: bool,
    positions: Positions,
    events_since_checkpoint: u64,
    last_checkpoint: Instant,
    /// How the snapshot lays out its state (`StreamGraph::group_features`).
    layout: Vec<Vec<String>>,
}

impl Ledger {
    pub(in crate::state) fn new(
        dir: Option<StateDir>,
        pushes: Idempotency,
        bootstrapped: bool,
        positions: BTreeMap<String, serde_json::Value>,
        layout: Vec<Vec<String>>,
    ) -> Ledger {
        Ledger {
            dir,
            pushes,
            bootstrapped,
            positions: Positions::from_saved(positions),
            events_since_checkpoint: 0,
            last_checkpoint: Instant::now(),
            layout,
        }
    }

    /// Counts events applied while recovering toward the next checkpoint.
    pub(in crate::state) fn count_events(&mut self, events: u64) {
        self.events_since_checkpoint += events;
    }

    /// Whether pushes are kept in a state directory.
    pub fn is_durable(&self) -> bool {
        self.dir.is_some()
    }

    /// Whether the state includes the sources' history.
    pub fn bootstrapped(&self) -> bool {
        self.bootstrapped
    }

    /// What the last checkpoint saved as `kind`'s position (see `positions`).
    pub fn saved_position(&self, kind: &str) -> Option<&serde_json::Value> {
        self.positions.saved(kind)
    }

    /// From now on every checkpoint saves `position` as `kind`'s.
    pub fn register(&mut self, kind: &str, position: Arc<dyn Position>) {
        self.positions.register(kind, position);
    }

    /// The answer a push with `key` gets without being checked again, if a push with
    /// that key was applied (its first answer, marked duplicate).
    pub fn answered(&self, key: &str) -> Option<PushOutcome> {
        self.pushes.repeat(key)
    }

    /// Commits a group of checked pushes (see the module docs): every push is
    /// answered; nothing is acknowledged unless the log append and its fsync
    /// succeeded.
    pub fn commit(&mut self, state: &OnlineState, pushes: Vec<CheckedPush>) -> Committed {
        let counters = state.counters();
        // Pushes whose key was seen (before, or earlier in this group) are answered
        // with the first answer and neither logged nor applied.
        let mut fresh: Vec<(usize, CheckedPush)> = Vec::with_capacity(pushes.len());
        let mut repeats: Vec<(usize, CheckedPush)> = Vec::new();
        for (i, p) in pushes.into_iter().enumerate() {
            let seen = p.key().is_some_and(|k| {
                self.pushes.get(k).is_some() || fresh.iter().any(|(_, q)| q.key() == Some(k))
            });
            if seen {
                repeats.push((i, p));
            } else {
                fresh.push((i, p));
            }
        }
        let n = fresh.len() + repeats.len();
        if let Some(dir) = self.dir.as_mut() {
            if let Err(e) = append(dir, &fresh, state) {
                return Committed {
                    answers: (0..n).map(|_| Err(PushError::Storage(e.clone()))).collect(),
                    applied: Vec::new(),
                };
            }
        }
        let mut answers: Vec<(usize, Result<PushOutcome, PushError>)> = Vec::with_capacity(n);
        // Every copy of the state takes the group (reads go on from the other one).
        let outcomes = state.write(|rt| {
            fresh
                .iter()
                .map(|(_, p)| PushOutcome::apply(rt, p.source(), p.batch()))
                .collect::<Vec<_>>()
        });
        let mut applied = Vec::with_capacity(fresh.len());
        for ((i, p), outcome) in fresh.into_iter().zip(outcomes) {
            let answer = match outcome {
                Ok(o) => {
                    counters.rows_accepted.fetch_add(o.accepted, Relaxed);
                    counters.rows_late.fetch_add(o.late, Relaxed);
                    self.events_since_checkpoint += o.accepted;
                    let (source, key, batch) = p.into_record();
                    if let Some(k) = key {
                        self.pushes.insert(k, o.accepted, o.late);
                    }
                    applied.push((source, batch));
                    Ok(o)
                }
                // Checked before it was logged, so this does not happen; if it did, a
                // restart skips (or refuses) the record the same way.
                Err(error) => Err(PushError::Refused {
                    source: p.source().to_string(),
                    error: Box::new(error),
                }),
            };
            answers.push((i, answer));
        }
        for (i, p) in repeats {
            counters.pushes_duplicate.fetch_add(1, Relaxed);
            let answer = p
                .key()
                .and_then(|k| self.pushes.repeat(k))
                .ok_or(PushError::FirstRefused);
            answers.push((i, answer));
        }
        answers.sort_unstable_by_key(|(i, _)| *i);
        Committed {
            answers: answers.into_iter().map(|(_, a)| a).collect(),
            applied,
        }
    }

    /// Applies a round of a source's records to every copy and runs its `advance` in
    /// the same step: a checkpoint never holds one without the other. On an error no
    /// later batch of the round is applied and the position stays put.
    pub fn apply_round(&mut self, state: &OnlineState, round: Round) -> Result<Applied, PushError> {
        let Round {
            batches,
            idle,
            skipped,
            advance,
        } = round;
        let accepted = state.write(|rt| {
            let mut accepted = 0;
            for (partition, push) in &batches {
                // Checked when decoded, so this does not fail.
                rt.ingest_partition(push.source(), *partition, push.batch())
                    .map_err(|error| PushError::Refused {
                        source: push.source().to_string(),
                        error: Box::new(error),
                    })?;
                accepted += push.batch().num_rows() as u64;
            }
            for (source, partition) in &idle {
                rt.set_partition_idle(source, *partition, true)
                    .map_err(|error| PushError::Refused {
                        source: source.clone(),
                        error: Box::new(error),
                    })?;
            }
            Ok::<_, PushError>(accepted)
        })?;
        advance();
        self.events_since_checkpoint += accepted + skipped;
        Ok(batches
            .into_iter()
            .map(|(_, push)| push.into_parts())
            .collect())
    }

    /// Marks the state as holding the sources' history and checkpoints it from
    /// `taken`, a snapshot of the state taken while nothing changed it.
    pub fn bootstrapped_from(
        &mut self,
        state: &OnlineState,
        taken: Vec<u8>,
    ) -> Result<(), DurableError> {
        self.bootstrapped = true;
        self.checkpoint(state, Some(taken))
    }

    /// Whether a checkpoint is due under the state's policy (something changed, and
    /// enough events or time passed since the last one).
    pub fn checkpoint_due(&self, state: &OnlineState) -> bool {
        let config = state.config();
        self.events_since_checkpoint > 0
            && (self.events_since_checkpoint >= config.checkpoint_events
                || self.last_checkpoint.elapsed() >= config.checkpoint_interval)
    }

    /// Checkpoints when due (see `checkpoint_due`); says whether it did. A failure
    /// keeps the log: nothing acknowledged is lost.
    pub fn checkpoint_if_due(&mut self, state: &OnlineState) -> Result<bool, DurableError> {
        if self.dir.is_none() || !self.checkpoint_due(state) {
            return Ok(false);
        }
        self.checkpoint(state, None).map(|()| true)
    }

    /// Writes a checkpoint of everything applied so far (from `taken`, a snapshot of
    /// the current state, or a new one) and forgets the log before it. A no-op in
    /// memory.
    pub fn checkpoint(
        &mut self,
        state: &OnlineState,
        taken: Option<Vec<u8>>,
    ) -> Result<(), DurableError> {
        let Some(dir) = self.dir.as_mut() else {
            return Ok(());
        };
        let counters = state.counters();
        let started = Instant::now();
        let result = (|| {
            let upto = dir.log.next_seq();
            let snapshot = match taken {
                Some(bytes) => bytes,
                None => state
                    .spare(snapshot::take)
                    .map_err(DurableError::Snapshot)?,
            };
            let header = Header {
                upto,
                pushes: self.pushes.entries(),
                bootstrapped: self.bootstrapped,
                positions: self.positions.save(),
                legacy_kafka: None,
                snapshot_bytes: snapshot.len() as u64,
                layout: self.layout.clone(),
            };
            checkpoint::write(&dir.dir, &header, &snapshot)?;
            dir.log.truncate_before(upto)
        })();
        match &result {
            Ok(()) => {
                counters.checkpoints.fetch_add(1, Relaxed);
                counters
                    .last_checkpoint_us
                    .store(started.elapsed().as_micros() as u64, Relaxed);
                self.events_since_checkpoint = 0;
                self.last_checkpoint = Instant::now();
            }
            Err(_) => {
                counters.checkpoint_failures.fetch_add(1, Relaxed);
            }
        }
        result
    }
}

/// Encodes the fresh pushes and appends them to the log with one fsync.
fn append(
    dir: &mut StateDir,
    fresh: &[(usize, CheckedPush)],
    state: &OnlineState,
) -> Result<(), DurableError> {
    let records = fresh
        .iter()
        .map(|(_, p)| record::encode(p.source(), p.key(), p.batch()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(DurableError::Record)?;
    let bytes: usize = records.iter().map(Vec::len).sum();
    dir.log.append(&records)?;
    let counters = state.counters();
    counters
        .wal_records
        .fetch_add(records.len() as u64, Relaxed);
    counters.wal_bytes.fetch_add(bytes as u64, Relaxed);
    counters.wal_syncs.fetch_add(1, Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::super::recover::{open, Replay};
    use super::super::testing::{opened, push, TempDir};
    use super::*;
    use crate::config::StateConfig;
    use crate::durable::checkpoint;
    use featc_runtime::stream::Options;

    const T: i64 = 1_709_294_400_000_000;

    fn events(state: &OnlineState) -> u64 {
        state.read(|r| r.metrics().events)
    }

    #[test]
    fn a_repeated_key_is_applied_once_within_a_group_and_across_groups() {
        let temp = TempDir::new("idempotency");
        let dir = temp.path();
        let (state, mut ledger, check) = opened(Some(dir));
        let group = vec![
            push(&check, &[(T, 1, 1.0)], Some("a")),
            push(&check, &[(T, 1, 1.0)], Some("a")),
            push(&check, &[(T, 2, 2.0), (T, 2, 3.0)], None),
        ];
        let committed = ledger.commit(&state, group);
        let first = PushOutcome {
            accepted: 1,
            late: 0,
            duplicate: false,
        };
        let again = PushOutcome {
            duplicate: true,
            ..first
        };
        let third = PushOutcome {
            accepted: 2,
            ..first
        };
        assert_eq!(committed.answers, vec![Ok(first), Ok(again), Ok(third)]);
        assert_eq!(committed.applied.len(), 2, "the repeat is not applied");
        let counters = state.counters();
        assert_eq!(counters.wal_records.load(Relaxed), 2, "nor logged");
        assert_eq!(counters.wal_syncs.load(Relaxed), 1, "one fsync per group");
        assert_eq!(events(&state), 3);
        // A later group: answered from the record, neither logged nor applied.
        let later = ledger.commit(&state, vec![push(&check, &[(T, 1, 9.0)], Some("a"))]);
        assert_eq!(later.answers, vec![Ok(again)]);
        assert!(later.applied.is_empty());
        assert_eq!(counters.wal_records.load(Relaxed), 2);
        assert_eq!(counters.pushes_duplicate.load(Relaxed), 2);
        assert_eq!(events(&state), 3);
        assert_eq!(ledger.answered("a"), Some(again));
        // Across a restart, from the log alone: the key is remembered.
        drop((state, ledger));
        let (state, mut ledger, check) = opened(Some(dir));
        assert_eq!(events(&state), 3);
        let after = ledger.commit(&state, vec![push(&check, &[(T, 1, 9.0)], Some("a"))]);
        assert_eq!(after.answers, vec![Ok(again)]);
    }

    /// A position that is whatever its source's rounds moved it to.
    struct Offset(Mutex<i64>);

    impl Position for Offset {
        fn save(&self) -> serde_json::Value {
            serde_json::json!(*self.0.lock().unwrap())
        }
    }

    fn round(offset: &Arc<Offset>, to: i64, batches: Vec<(i32, CheckedPush)>, idle: &str) -> Round {
        let moved = Arc::clone(offset);
        Round {
            batches,
            idle: vec![(idle.to_string(), 0)],
            skipped: 1,
            advance: Box::new(move || *moved.0.lock().unwrap() = to),
        }
    }

    #[test]
    fn a_checkpoint_holds_the_positions_advanced_with_the_state() {
        let temp = TempDir::new("positions");
        let dir = temp.path();
        let (state, mut ledger, check) = opened(Some(dir));
        let offset = Arc::new(Offset(Mutex::new(0)));
        ledger.register("test", Arc::clone(&offset) as Arc<dyn Position>);
        let batches = vec![(0, push(&check, &[(T, 1, 1.0), (T, 2, 1.0)], None))];
        let applied = ledger.apply_round(&state, round(&offset, 5, batches, "clicks"));
        assert_eq!(applied.map(|a| a.len()), Ok(1));
        assert_eq!(*offset.0.lock().unwrap(), 5);
        // A round the state refuses does not move the position.
        let failed = ledger.apply_round(&state, round(&offset, 9, Vec::new(), "nope"));
        assert!(failed.is_err(), "an idle partition of an unknown source");
        assert_eq!(*offset.0.lock().unwrap(), 5);
        let in_state = events(&state);
        assert_eq!(in_state, 2);
        ledger.checkpoint(&state, None).unwrap();
        let (header, _) = checkpoint::read(dir).unwrap().unwrap();
        assert_eq!(header.positions.get("test"), Some(&serde_json::json!(5)));
        drop((state, ledger));
        let config = StateConfig::embedded(Options::default());
        let (state, ledger, found) = open(
            super::super::testing::graph(),
            config,
            Some(dir),
            Replay::SERVER,
        )
        .unwrap();
        assert_eq!(ledger.saved_position("test"), Some(&serde_json::json!(5)));
        assert_eq!(
            found.replayed, 0,
            "rounds are not logged: the source is the log"
        );
        assert_eq!(events(&state), in_state);
    }
}
