//! The write side of the core, owned by exactly one driver at a time (the server's
//! writer thread, or the embedded store on its caller's thread): the one durable
//! push protocol. A group of checked pushes is committed in five steps: repeated
//! idempotency keys answered from the record (neither logged nor applied), the rest
//! encoded and appended to the log with ONE fsync, applied to every copy in log
//! order, their keys remembered, answered. Rounds of sources read outside the log
//! (Kafka) go the same way: logged (rows and position notes) in the same sequence,
//! applied, and their positions moved in the same step. Checkpoints are taken here
//! too, between steps, so the log order, the apply order, the positions and a
//! checkpoint's coverage are one sequence: a restart re-applies exactly the records
//! after the checkpoint, pushes and rounds in the order they were first applied, and
//! moves each source's position with its rounds.
//!
//! Acknowledgement means one thing: an error from `commit` or `apply_round` means
//! nothing of that push or round part was applied. Every error is decided before
//! the log append (a failing append, an unknown source), except a runtime refusal
//! after it, which the runtime's contract excludes for checked batches (`check`); if
//! one happened anyway, the same record fails the same way on a restart.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::record_batch::RecordBatch;

use super::check::CheckedPush;
use super::error::PushError;
use super::idempotency::{Idempotency, PushOutcome};
use super::late::take_late;
use super::online::OnlineState;
use super::positions::{Position, Positions, Round};
use crate::durable::{
    archive, checkpoint, record, snapshot, DurableError, Header, RoundPart, RoundRecord, StateDir,
};
use crate::wire::time::now_us;
use featc_runtime::stream::{StreamError, StreamRuntime};

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
    /// When the last checkpoint was written, or last failed.
    last_checkpoint: Instant,
    /// After a checkpoint failed: the `events_since_checkpoint` at which the next one
    /// is due (a whole policy's worth later, not at every step).
    retry_at_events: Option<u64>,
    /// How the snapshot lays out its state (`StreamGraph::group_features`).
    layout: Vec<Vec<String>>,
}

impl Ledger {
    pub(in crate::state) fn new(
        dir: Option<StateDir>,
        pushes: Idempotency,
        bootstrapped: bool,
        positions: BTreeMap<String, serde_json::Value>,
        pending_notes: BTreeMap<String, Vec<serde_json::Value>>,
        layout: Vec<Vec<String>>,
    ) -> Ledger {
        Ledger {
            dir,
            pushes,
            bootstrapped,
            positions: Positions::from_saved(positions, pending_notes),
            events_since_checkpoint: 0,
            last_checkpoint: Instant::now(),
            retry_at_events: None,
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

    /// From now on every checkpoint saves `position` as `kind`'s; it first takes the
    /// notes of `kind`'s rounds re-applied from the log since the checkpoint it was
    /// made from (`saved_position`).
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
        let mut end = None;
        if let Some(dir) = self.dir.as_mut() {
            match append_pushes(dir, &fresh, state) {
                Ok(next) => end = Some(next),
                Err(e) => {
                    return Committed {
                        answers: (0..n).map(|_| Err(PushError::Storage(e.clone()))).collect(),
                        applied: Vec::new(),
                    }
                }
            }
        }
        if let Some(end) = end {
            state.progress().begin(end);
        }
        let mut answers: Vec<(usize, Result<PushOutcome, PushError>)> = Vec::with_capacity(n);
        // Every copy of the state takes the group (reads go on from the other one);
        // the late rows each push leaves are taken in the same step.
        let outcomes = state.write(|rt| {
            fresh
                .iter()
                .map(|(_, p)| {
                    let outcome = match dropping_last_row(p.batch()) {
                        Some(fewer) => PushOutcome::apply(rt, p.source(), &fewer),
                        None => PushOutcome::apply(rt, p.source(), p.batch()),
                    };
                    (outcome, take_late(rt, || push_origin(p.key())))
                })
                .collect::<Vec<_>>()
        });
        if let Some(end) = end {
            state.progress().done(end);
        }
        let mut applied = Vec::with_capacity(fresh.len());
        for ((i, p), (outcome, late)) in fresh.into_iter().zip(outcomes) {
            state.keep_dead(late);
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

    /// Applies a round of a source's records (see `positions`): refused whole when a
    /// source is unknown or the log append fails; else logged, applied to every copy,
    /// and each applied part's note handed to its kind's position in the same step.
    /// Should a part fail anyway, the parts before it stay applied with their
    /// positions moved, and it and the later ones are not applied (nor moved), so
    /// re-reading them never applies anything twice.
    pub fn apply_round(&mut self, state: &OnlineState, round: Round) -> Result<Applied, PushError> {
        let Round { kind, parts, idle } = round;
        let sources = parts
            .iter()
            .map(|p| p.source.as_str())
            .chain(idle.iter().map(|(s, _)| s.as_str()));
        for name in sources {
            if let Err(suggestion) = state.names().source(name) {
                return Err(PushError::UnknownSource {
                    name: name.to_string(),
                    suggestion,
                });
            }
        }
        let record = RoundRecord {
            kind,
            parts: parts
                .into_iter()
                .map(|p| RoundPart {
                    partition: p.partition,
                    source: p.source,
                    batch: p.batch.map(|b| b.into_parts().1),
                    skipped: p.dead.len() as u64,
                    note: p.note,
                    dead: p.dead,
                })
                .collect(),
            idle,
        };
        let mut end = None;
        if let Some(dir) = self.dir.as_mut() {
            let bytes = record
                .encode()
                .map_err(|e| PushError::Storage(DurableError::Record(e)))?;
            let next = append(dir, &[bytes], state).map_err(PushError::Storage)?;
            state.progress().begin(next);
            end = Some(next);
        }
        let (done, failed) = apply_round_record(state, &record);
        if let Some(end) = end {
            state.progress().done(end);
        }
        let RoundRecord { kind, parts, .. } = record;
        let mut applied = Vec::new();
        for part in parts.into_iter().take(done) {
            self.events_since_checkpoint += part.skipped;
            state.keep_dead(part.dead);
            if let Some(batch) = part.batch {
                self.events_since_checkpoint += batch.num_rows() as u64;
                applied.push((part.source, batch));
            }
            self.positions.advance(&kind, part.note);
        }
        match failed {
            None => Ok(applied),
            Some((source, error)) => Err(PushError::Refused {
                source,
                error: Box::new(error),
            }),
        }
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
    /// enough events or time passed since the last one; after a failure, since the
    /// failure: a failing disk is not retried, with a whole snapshot, at every step).
    pub fn checkpoint_due(&self, state: &OnlineState) -> bool {
        let config = state.config();
        let due_events = self.retry_at_events.unwrap_or(config.checkpoint_events);
        self.events_since_checkpoint > 0
            && (self.events_since_checkpoint >= due_events
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
            let (positions, pending_notes) = self.positions.save();
            // Letters past their retention go with this checkpoint.
            let dead_letters = state.dead_letters_mut(|d| {
                d.expire(now_us());
                d.save()
            });
            let header = Header {
                upto,
                pushes: self.pushes.entries(),
                bootstrapped: self.bootstrapped,
                positions,
                pending_notes,
                legacy_kafka: None,
                snapshot_bytes: snapshot.len() as u64,
                layout: self.layout.clone(),
                dead_letters,
            };
            // The records the log forgets are archived first (durable::archive).
            if let Some(keep) = state.config().archive_retention {
                let records = dir.log.read_entries(0)?;
                let first = records.first().map_or(upto, |(seq, _)| *seq);
                let rows = archive::write(&dir.dir, first, &records)?;
                counters.archived_rows.fetch_add(rows, Relaxed);
                archive::prune(&dir.dir, keep)?;
            }
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
                self.retry_at_events = None;
            }
            Err(_) => {
                counters.checkpoint_failures.fetch_add(1, Relaxed);
                let later = self.events_since_checkpoint + state.config().checkpoint_events;
                self.retry_at_events = Some(later);
                self.last_checkpoint = Instant::now();
            }
        }
        result
    }
}

/// Applies a logged round to every copy: its parts in order, then its idle
/// partitions. Returns how many parts were applied, and the first refusal (with its
/// source) if one stopped it. The live step and the restart's replay both apply a
/// round here, so both stop at the same part.
pub(in crate::state) fn apply_round_record(
    state: &OnlineState,
    round: &RoundRecord,
) -> (usize, Option<(String, StreamError)>) {
    let (done, failed, late) = state.write(|rt: &mut StreamRuntime| {
        let mut late = Vec::new();
        for (i, part) in round.parts.iter().enumerate() {
            if let Some(batch) = &part.batch {
                let ingested = rt.ingest_partition(&part.source, part.partition, batch);
                late.extend(take_late(rt, || round_origin(&round.kind, part.partition)));
                if let Err(e) = ingested {
                    return (i, Some((part.source.clone(), e)), late);
                }
            }
        }
        for (source, partition) in &round.idle {
            if let Err(e) = rt.set_partition_idle(source, *partition, true) {
                return (round.parts.len(), Some((source.clone(), e)), late);
            }
        }
        (round.parts.len(), None, late)
    });
    state.keep_dead(late);
    (done, failed)
}

/// A fault tests inject into a debug build to prove that `featc audit` catches a
/// server that loses events (`FEATC_TEST_FAULT=drop-last-row`): a push of two or
/// more rows is applied without its last row, though logged and archived whole.
/// Returns the rows to apply instead of the push's, when the fault is on. A release
/// build never reads the variable.
#[cfg(debug_assertions)]
fn dropping_last_row(batch: &RecordBatch) -> Option<RecordBatch> {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let on =
        *ON.get_or_init(|| std::env::var("FEATC_TEST_FAULT").is_ok_and(|f| f == "drop-last-row"));
    (on && batch.num_rows() > 1).then(|| batch.slice(0, batch.num_rows() - 1))
}

#[cfg(not(debug_assertions))]
fn dropping_last_row(_: &RecordBatch) -> Option<RecordBatch> {
    None
}

/// Where a pushed event came from, for its dead letter.
pub(in crate::state) fn push_origin(key: Option<&str>) -> serde_json::Value {
    match key {
        Some(key) => serde_json::json!({"push": {"key": key}}),
        None => serde_json::json!({"push": {}}),
    }
}

/// Where an event of a round came from, for its dead letter (the kind names it:
/// `{"kafka": {"partition": 3}}`).
fn round_origin(kind: &str, partition: i32) -> serde_json::Value {
    serde_json::json!({ kind: {"partition": partition} })
}

/// Encodes the fresh pushes and appends them to the log with one fsync; returns the
/// sequence number after the last.
fn append_pushes(
    dir: &mut StateDir,
    fresh: &[(usize, CheckedPush)],
    state: &OnlineState,
) -> Result<u64, DurableError> {
    let records = fresh
        .iter()
        .map(|(_, p)| record::encode(p.source(), p.key(), p.batch()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(DurableError::Record)?;
    append(dir, &records, state)
}

/// Appends encoded records to the log with one fsync, and counts them; returns the
/// sequence number after the last.
fn append(
    dir: &mut StateDir,
    records: &[Vec<u8>],
    state: &OnlineState,
) -> Result<u64, DurableError> {
    let bytes: usize = records.iter().map(Vec::len).sum();
    let first = dir.log.append(records)?;
    let counters = state.counters();
    counters
        .wal_records
        .fetch_add(records.len() as u64, Relaxed);
    counters.wal_bytes.fetch_add(bytes as u64, Relaxed);
    counters.wal_syncs.fetch_add(1, Relaxed);
    Ok(first + records.len() as u64)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::super::dead_letters::Filter;
    use super::super::positions::Part;
    use super::super::recover::{open, Replay};
    use super::super::testing::opened_with;
    use super::super::testing::{opened, push, TempDir};
    use super::*;
    use crate::config::StateConfig;
    use crate::durable::checkpoint;
    use crate::durable::DeadReason;
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

    /// A position that adds up the offsets its parts' notes carry, and counts the
    /// notes it took.
    #[derive(Default)]
    struct Offset(Mutex<(i64, u32)>);

    impl Offset {
        fn now(&self) -> (i64, u32) {
            *self.0.lock().unwrap()
        }
    }

    impl Position for Offset {
        fn save(&self) -> serde_json::Value {
            serde_json::json!(self.now().0)
        }
        fn advance(&self, note: &serde_json::Value) {
            let mut at = self.0.lock().unwrap();
            at.0 += note.as_i64().unwrap();
            at.1 += 1;
        }
    }

    /// A part of partition 0 of `clicks`, moving the position by `by`, with one
    /// record kept out.
    fn part(batch: Option<CheckedPush>, by: i64) -> Part {
        Part {
            partition: 0,
            source: "clicks".into(),
            batch,
            note: serde_json::json!(by),
            dead: vec![invalid(by)],
        }
    }

    fn invalid(offset: i64) -> crate::durable::DeadLetter {
        crate::durable::DeadLetter {
            source: "clicks".into(),
            reason: DeadReason::Invalid,
            detail: "not JSON".into(),
            origin: serde_json::json!({"test": {"offset": offset}}),
            event: serde_json::json!("{"),
        }
    }

    /// (source, reason, detail) of every letter the store keeps, oldest first.
    fn letters(state: &OnlineState) -> Vec<(String, DeadReason, String)> {
        let filter = Filter {
            limit: 1_000,
            ..Filter::default()
        };
        state.dead_letters(|d| {
            d.list(&filter)
                .letters
                .into_iter()
                .map(|k| (k.letter.source, k.letter.reason, k.letter.detail))
                .collect()
        })
    }

    /// Late rows under the dead-letter policy and the records a round kept out go to
    /// one store, in the step that applied them; a restart rebuilds it from the
    /// checkpoint and the log, the same letters and counts; the checkpoint after a
    /// letter's retention drops it.
    #[test]
    fn dead_letters_of_every_kind_are_kept_counted_and_survive_restarts() {
        let temp = TempDir::new("dead-letters");
        let dir = temp.path();
        let mut config = StateConfig::embedded(Options {
            late_policy: featc_runtime::stream::LatePolicy::DeadLetter,
            ..Options::default()
        });
        config.dead_letters.retention = std::time::Duration::from_secs(3600);
        let (state, mut ledger, check) = opened_with(Some(dir), config.clone());
        let hour = 3_600_000_000;
        let ahead = push(&check, &[(T + 3 * hour, 1, 1.0)], None);
        ledger.commit(&state, vec![ahead]);
        // Two events far behind the watermark: late, kept out, letters.
        let behind = push(&check, &[(T, 1, 2.0), (T, 2, 3.0)], Some("k"));
        let answer = ledger.commit(&state, vec![behind]);
        assert_eq!(answer.answers[0].as_ref().map(|o| o.late), Ok(2));
        ledger.checkpoint(&state, None).unwrap();
        // After the checkpoint: a round with a record kept out, and a late push.
        let on_time = push(&check, &[(T + 3 * hour, 3, 1.0)], None);
        ledger
            .apply_round(&state, round(vec![part(Some(on_time), 7)], "clicks"))
            .unwrap();
        ledger.commit(&state, vec![push(&check, &[(T + hour, 3, 1.0)], None)]);
        let kept = letters(&state);
        let late_detail = &kept[0].2;
        assert!(
            late_detail.contains("2024-03-01T12:00:00Z"),
            "{late_detail}"
        );
        assert!(late_detail.contains("watermark"), "{late_detail}");
        let reasons: Vec<DeadReason> = kept.iter().map(|k| k.1).collect();
        use DeadReason::{Invalid, Late};
        assert_eq!(reasons, vec![Late, Late, Invalid, Late]);
        let listed = state.dead_letters(|d| {
            d.list(&Filter {
                limit: 10,
                ..Filter::default()
            })
        });
        assert_eq!(listed.letters[0].letter.event["user_id"], 1);
        assert_eq!(listed.letters[0].letter.event["amount"], 2.0);
        assert_eq!(
            listed.letters[0].letter.origin,
            serde_json::json!({"push": {"key": "k"}})
        );
        assert_eq!(
            listed.letters[2].letter.origin,
            serde_json::json!({"test": {"offset": 7}})
        );
        assert_eq!(
            listed.letters[3].letter.origin,
            serde_json::json!({"push": {}})
        );
        let totals = state.dead_letters(|d| d.totals());
        // Restart: the checkpoint's letters and the log's, the same.
        drop((state, ledger));
        let (state, ledger, _) = opened_with(Some(dir), config.clone());
        assert_eq!(letters(&state), kept);
        assert_eq!(state.dead_letters(|d| d.totals()), totals);
        assert_eq!(state.read(|r| r.metrics().dead_lettered), 3);
        // A checkpoint an hour and more after they were kept drops them (no clock to
        // move here: a retention of zero stands for the hour passing).
        drop((state, ledger));
        config.dead_letters.retention = std::time::Duration::ZERO;
        let (state, mut ledger, _) = opened_with(Some(dir), config);
        std::thread::sleep(std::time::Duration::from_millis(2));
        ledger.checkpoint(&state, None).unwrap();
        assert!(letters(&state).is_empty());
        let after = state.dead_letters(|d| d.totals());
        assert_eq!(after.dropped, (0, 4));
        assert_eq!(
            after.counts,
            totals
                .counts
                .iter()
                .map(|(s, r, c)| {
                    (
                        s.clone(),
                        *r,
                        super::super::dead_letters::Count {
                            kept: 0,
                            kept_bytes: 0,
                            ..*c
                        },
                    )
                })
                .collect::<Vec<_>>()
        );
    }

    fn round(parts: Vec<Part>, idle: &str) -> Round {
        Round {
            kind: "test".into(),
            parts,
            idle: vec![(idle.to_string(), 0)],
        }
    }

    fn reopen(dir: &std::path::Path) -> (OnlineState, Ledger, super::super::Recovered) {
        let config = StateConfig::embedded(Options::default());
        open(
            super::super::testing::graph(),
            config,
            Some(dir),
            Replay::SERVER,
        )
        .unwrap()
    }

    #[test]
    fn a_checkpoint_holds_the_positions_advanced_with_the_state() {
        let temp = TempDir::new("positions");
        let dir = temp.path();
        let (state, mut ledger, check) = opened(Some(dir));
        let offset = Arc::new(Offset::default());
        ledger.register("test", Arc::clone(&offset) as Arc<dyn Position>);
        let batch = push(&check, &[(T, 1, 1.0), (T, 2, 1.0)], None);
        let applied = ledger.apply_round(&state, round(vec![part(Some(batch), 5)], "clicks"));
        assert_eq!(applied.map(|a| a.len()), Ok(1));
        assert_eq!(offset.now(), (5, 1));
        // A round the state refuses is refused whole: not logged, not applied, the
        // position not moved.
        let batch = push(&check, &[(T, 3, 1.0)], None);
        let failed = ledger.apply_round(&state, round(vec![part(Some(batch), 4)], "nope"));
        assert!(failed.is_err(), "an idle partition of an unknown source");
        assert_eq!(offset.now(), (5, 1));
        assert_eq!(state.counters().wal_records.load(Relaxed), 1);
        let in_state = events(&state);
        assert_eq!(in_state, 2);
        ledger.checkpoint(&state, None).unwrap();
        let (header, _) = checkpoint::read(dir).unwrap().unwrap();
        assert_eq!(header.positions.get("test"), Some(&serde_json::json!(5)));
        drop((state, ledger));
        let (state, ledger, found) = reopen(dir);
        assert_eq!(ledger.saved_position("test"), Some(&serde_json::json!(5)));
        assert_eq!(found.replayed, 0, "the checkpoint covers the round");
        assert_eq!(events(&state), in_state);
    }

    /// Rounds are logged among the pushes: a restart re-applies them in their place
    /// (lateness depends on the order) and hands their notes to the position, so
    /// nothing is re-read; one that no source registers for keeps its notes across a
    /// checkpoint.
    #[test]
    fn a_restart_replays_rounds_and_pushes_in_their_order() {
        let temp = TempDir::new("round-order");
        let dir = temp.path();
        let (state, mut ledger, check) = opened(Some(dir));
        ledger.register("test", Arc::new(Offset::default()) as Arc<dyn Position>);
        let hour = 3_600_000_000;
        // A round far ahead, then a push an hour and more behind it: late.
        let ahead = push(&check, &[(T + 3 * hour, 1, 1.0)], None);
        ledger
            .apply_round(&state, round(vec![part(Some(ahead), 1)], "clicks"))
            .unwrap();
        let behind = ledger.commit(&state, vec![push(&check, &[(T, 1, 2.0)], None)]);
        assert_eq!(behind.answers[0].as_ref().map(|o| o.late), Ok(1));
        let read = |state: &OnlineState| state.read(|r| (r.metrics().events, r.metrics().late));
        let before = read(&state);
        drop((state, ledger));
        let (state, mut ledger, found) = reopen(dir);
        assert_eq!(found.replayed, 2);
        assert_eq!(
            read(&state),
            before,
            "the push is late again: replayed after the round"
        );
        // Nobody registered "test" this run: its note waits in the checkpoint.
        ledger.checkpoint(&state, None).unwrap();
        drop((state, ledger));
        let (state, mut ledger, _) = reopen(dir);
        let offset = Arc::new(Offset::default());
        ledger.register("test", Arc::clone(&offset) as Arc<dyn Position>);
        assert_eq!(offset.now(), (1, 1), "the round's note, taken once");
        assert_eq!(read(&state), before);
    }

    /// A round whose second part fails: the first stays applied with its position
    /// moved, the second is neither applied nor moved; re-reading it applies it once.
    /// The same holds after a restart from the log.
    #[test]
    fn a_round_failing_part_way_never_applies_a_part_twice() {
        let temp = TempDir::new("round-part");
        let dir = temp.path();
        let (state, mut ledger, check) = opened(Some(dir));
        let offset = Arc::new(Offset::default());
        ledger.register("test", Arc::clone(&offset) as Arc<dyn Position>);
        let good = push(&check, &[(T, 1, 1.0), (T, 2, 1.0)], None);
        // Rows the runtime refuses (a user id that is not an integer), as a checked
        // push could never be: the one way to make a part fail after the log.
        let bad = CheckedPush::unchecked_for_tests("clicks", wrong_rows());
        let failed = ledger.apply_round(
            &state,
            round(vec![part(Some(good), 10), part(Some(bad), 20)], "clicks"),
        );
        assert!(failed.is_err());
        assert_eq!(offset.now(), (10, 1), "only the applied part moved");
        assert_eq!(events(&state), 2);
        // The consumer reads the failed part again (from the position): once.
        let again = push(&check, &[(T, 3, 1.0)], None);
        ledger
            .apply_round(&state, round(vec![part(Some(again), 20)], "clicks"))
            .unwrap();
        assert_eq!(offset.now(), (30, 2));
        assert_eq!(events(&state), 3);
        drop((state, ledger));
        let (state, mut ledger, found) = reopen(dir);
        let offset = Arc::new(Offset::default());
        ledger.register("test", Arc::clone(&offset) as Arc<dyn Position>);
        assert_eq!(offset.now(), (30, 2), "the same notes, from the log");
        assert_eq!(events(&state), 3);
        assert_eq!(found.skipped.len(), 1, "the failed part is reported");
    }

    fn wrong_rows() -> RecordBatch {
        use datafusion::arrow::array::TimestampMicrosecondArray;
        use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
        let ts: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![T]).with_timezone("UTC"));
        let user: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
        let amount: ArrayRef = Arc::new(Float64Array::from(vec![1.0]));
        RecordBatch::try_from_iter([("ts", ts), ("user_id", user), ("amount", amount)]).unwrap()
    }
}
