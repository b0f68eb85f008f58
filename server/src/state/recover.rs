//! Opening the online state: the one opening of a state directory, for the server
//! and the embedded store alike. The directory's identity is checked (one written
//! for other features is refused), its checkpoint loaded, the log records after it
//! re-applied in order (pushes, and rounds of sources read outside the log, in the
//! order they were first applied; each round's notes kept for its kind's position,
//! see `positions`), and what was found handed back as data (`Recovered`) for each
//! caller's own message. In memory (no directory) the state starts empty.
//!
//! With a memory limit (`StateConfig::memory_limit`) and a directory, entity states
//! live in a disk tier there (`durable::EntityStore`, `entities/`): a checkpoint then
//! holds everything but the entities, and a restart costs the log since it, not the
//! state's size. The store may hold entity states newer than the checkpoint (evicted
//! after it); each records the next event it lacks, so the log's replay applies to
//! every entity exactly what it lacks (`featc_runtime::stream`'s `entities`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use featc_runtime::stream::{StateStore, StreamError, StreamGraph, StreamRuntime, Tier};

use super::dead_letters::DeadLetterStore;
use super::error::StateError;
use super::idempotency::{Idempotency, PushOutcome};
use super::late::take_late;
use super::ledger::{apply_round_record, push_origin, Ledger};
use super::online::OnlineState;
use crate::config::StateConfig;
use crate::durable::{
    snapshot, DurableError, EntityStore, Entry, Identity, SavedDeadLetters, StateDir,
};

/// What a log record that no longer applies means. The server and the embedded store
/// have always differed here, and each keeps its behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadRecord {
    /// Skipped and reported (`Recovered::skipped`): the server still starts.
    Skip,
    /// The directory is refused as corrupt: every logged push was checked before it
    /// was logged, so one that fails now means it is not what was written.
    Refuse,
}

/// How the log is re-applied (the server's way or the embedded store's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replay {
    pub bad_record: BadRecord,
    /// Whether re-applied events count toward the next checkpoint (the embedded
    /// store's do; the server's next checkpoint counts from its start).
    pub counts_toward_checkpoint: bool,
}

impl Replay {
    pub const SERVER: Replay = Replay {
        bad_record: BadRecord::Skip,
        counts_toward_checkpoint: false,
    };
    pub const EMBEDDED: Replay = Replay {
        bad_record: BadRecord::Refuse,
        counts_toward_checkpoint: true,
    };
}

/// What opening found, for the caller's message.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovered {
    /// The state directory; `None`: in memory only.
    pub dir: Option<PathBuf>,
    /// The loaded checkpoint's `upto` (the log records before it are in it); `None`:
    /// the state started empty.
    pub checkpoint: Option<u64>,
    /// Log records re-applied after the checkpoint (skipped ones included).
    pub replayed: usize,
    /// Log records that no longer applied and were skipped, with why.
    pub skipped: Vec<(u64, StreamError)>,
    /// Bytes of a torn last write (a push that was never acknowledged) dropped from
    /// the log's end.
    pub dropped_tail_bytes: u64,
    /// Whether a checkpoint was being written when the process stopped (it was
    /// discarded; the one before it was loaded).
    pub unfinished_checkpoint: bool,
    /// Whether the state already holds the sources' history.
    pub bootstrapped: bool,
}

/// Opens the state of `graph` under `config`: from `dir` (created if new), or in
/// memory. See the module docs. A graph the runtime refuses is
/// `StateError::Runtime`, before anything else.
pub fn open(
    graph: StreamGraph,
    config: StateConfig,
    dir: Option<&Path>,
    replay: Replay,
) -> Result<(OnlineState, Ledger, Recovered), StateError> {
    let options = config.options.clone();
    let layout = graph.group_features();
    // A graph or options the runtime refuses are refused before the directory is
    // touched.
    let in_memory =
        StreamRuntime::with_options(graph.clone(), options.clone()).map_err(StateError::Runtime)?;
    let Some(dir) = dir else {
        let ledger = Ledger::new(
            None,
            Idempotency::default(),
            false,
            BTreeMap::new(),
            BTreeMap::new(),
            layout,
        );
        let recovered = Recovered {
            dir: None,
            checkpoint: None,
            replayed: 0,
            skipped: Vec::new(),
            dropped_tail_bytes: 0,
            unfinished_checkpoint: false,
            bootstrapped: false,
        };
        return Ok((
            OnlineState::new(in_memory, None, graph, config),
            ledger,
            recovered,
        ));
    };
    let identity = Identity::of(&graph)?;
    let (state_dir, found) = StateDir::open(dir, &identity)?;
    drop(in_memory);
    let (store, tier) = match config.memory_limit {
        Some(limit) => {
            let store = Arc::new(EntityStore::open(&dir.join("entities"))?);
            let tier = Tier {
                store: Arc::clone(&store) as Arc<dyn StateStore>,
                cache_bytes: usize::try_from(limit).unwrap_or(usize::MAX),
            };
            (Some(store), Some(tier))
        }
        None => (None, None),
    };
    let empty = || {
        StreamRuntime::with_tier(graph.clone(), options.clone(), tier.clone())
            .map_err(StateError::Runtime)
    };
    let mut pushes = Idempotency::default();
    let (runtime, bootstrapped, positions, mut notes, checkpoint, dead) = match found.checkpoint {
        Some((header, taken)) => {
            let runtime = snapshot::restore(graph.clone(), options.clone(), tier.clone(), &taken)
                .map_err(|e| {
                StateError::Durable(DurableError::Corrupt(format!(
                    "the checkpoint in `{}` cannot be loaded: {e}",
                    dir.display()
                )))
            })?;
            for (k, accepted, late) in header.pushes {
                pushes.insert(k, accepted, late);
            }
            (
                runtime,
                header.bootstrapped,
                header.positions,
                header.pending_notes,
                Some(header.upto),
                header.dead_letters,
            )
        }
        None => (
            empty()?,
            false,
            BTreeMap::new(),
            BTreeMap::new(),
            None,
            SavedDeadLetters::default(),
        ),
    };
    let limits = config.dead_letters;
    let state = OnlineState::new(runtime, store, graph, config);
    state.dead_letters_mut(|d| *d = DeadLetterStore::restore(dead, limits));
    // Checkpoints written before the store kept late rows in the runtime's snapshot.
    let restored = state.write(|rt| take_late(rt, || serde_json::json!({"checkpoint": {}})));
    state.keep_dead(restored);
    let replayed = found.records.len();
    let mut skipped = Vec::new();
    let mut events = 0;
    for (seq, entry) in found.records {
        let record = match entry {
            Entry::Push(record) => record,
            Entry::Round(round) => {
                // Applied as it was live (stopping where it stopped), its applied
                // parts' notes kept for the kind's position.
                let (done, failed) = apply_round_record(&state, &round);
                for part in round.parts.into_iter().take(done) {
                    events += part.skipped + part.batch.map_or(0, |b| b.num_rows() as u64);
                    state.keep_dead(part.dead);
                    notes.entry(round.kind.clone()).or_default().push(part.note);
                }
                if let Some((_, e)) = failed {
                    match replay.bad_record {
                        BadRecord::Skip => skipped.push((seq, e)),
                        BadRecord::Refuse => {
                            return Err(StateError::Durable(DurableError::Corrupt(format!(
                                "log record {seq} cannot be applied: {e}"
                            ))))
                        }
                    }
                }
                continue;
            }
        };
        let (outcome, late) = state.write(|rt| {
            let outcome = PushOutcome::apply(rt, &record.source, &record.batch);
            (
                outcome,
                take_late(rt, || push_origin(record.key.as_deref())),
            )
        });
        state.keep_dead(late);
        match outcome {
            Ok(o) => {
                if let Some(k) = record.key {
                    pushes.insert(k, o.accepted, o.late);
                }
                events += o.accepted;
            }
            Err(e) => match replay.bad_record {
                BadRecord::Skip => skipped.push((seq, e)),
                BadRecord::Refuse => {
                    return Err(StateError::Durable(DurableError::Corrupt(format!(
                        "log record {seq} cannot be applied: {e}"
                    ))))
                }
            },
        }
    }
    state.progress().start_at(state_dir.log.next_seq());
    let mut ledger = Ledger::new(
        Some(state_dir),
        pushes,
        bootstrapped,
        positions,
        notes,
        layout,
    );
    if replay.counts_toward_checkpoint {
        ledger.count_events(events);
    }
    let recovered = Recovered {
        dir: Some(dir.to_path_buf()),
        checkpoint,
        replayed,
        skipped,
        dropped_tail_bytes: found.dropped_tail_bytes,
        unfinished_checkpoint: found.unfinished_checkpoint,
        bootstrapped,
    };
    Ok((state, ledger, recovered))
}
