//! The online state without a server: a `StreamRuntime` fed by pushes in the calling
//! thread, durable when given a state directory. The directory has the format of
//! `featc serve --state` (identity, write-ahead log, checkpoints), so a state built
//! embedded can be served and the other way round (one process at a time: fjall locks
//! the log). The Python package's `Project.online(state=...)` is this.
//!
//! Guarantees, as the server's (docs/serving.md, "Durability"): a push is checked
//! whole first (nothing of a refused push is applied or logged), then logged and
//! fsynced, then applied; `push` returns only after that, so an acknowledged push
//! survives any crash and a restart re-applies it exactly once.

use std::path::Path;

use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::stream::{Options, StreamError, StreamGraph, StreamRuntime};

use crate::catalog::Catalog;
use crate::durable::{checkpoint, DurableError, Header, Identity, Record, StateDir};
use crate::kafka::KafkaState;
use crate::online::{Idempotency, PushOutcome};

/// Why the embedded store refused or failed.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreError {
    /// The push or the read is wrong (a column, a value, a name): nothing changed.
    Refused(StreamError),
    /// The state directory failed or cannot be used: a push that returns this was
    /// not acknowledged.
    State(DurableError),
    /// A push carries a column its source does not declare (refused, as `featc
    /// serve` refuses it).
    UndeclaredColumn {
        source: String,
        column: String,
        suggestion: Option<String>,
    },
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Refused(e) => write!(f, "{e}"),
            StoreError::State(e) => write!(f, "{e}"),
            StoreError::UndeclaredColumn {
                source,
                column,
                suggestion,
            } => {
                write!(
                    f,
                    "the push has a column `{column}` that source `{source}` does not declare"
                )?;
                match suggestion {
                    Some(s) => write!(f, " (did you mean `{s}`?)"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl std::error::Error for StoreError {}

impl From<StreamError> for StoreError {
    fn from(e: StreamError) -> StoreError {
        StoreError::Refused(e)
    }
}

impl From<DurableError> for StoreError {
    fn from(e: DurableError) -> StoreError {
        StoreError::State(e)
    }
}

/// A runtime with the server's durability, driven from one thread.
pub struct EmbeddedStore {
    runtime: StreamRuntime,
    catalog: Catalog,
    state: Option<StateDir>,
    pushes: Idempotency,
    /// Carried from the checkpoint loaded to the next one written.
    bootstrapped: bool,
    kafka: KafkaState,
    events_since_checkpoint: u64,
    /// Write a checkpoint after this many pushed events (the log is replayed from the
    /// last one at open).
    pub checkpoint_events: u64,
    recovered: String,
}

impl EmbeddedStore {
    /// An empty store in memory, or the store in `dir` (created if new; its
    /// checkpoint loaded and its log re-applied; refused when it was built for other
    /// features).
    pub fn open(
        graph: StreamGraph,
        options: Options,
        dir: Option<&Path>,
    ) -> Result<EmbeddedStore, StoreError> {
        let mut store = EmbeddedStore {
            runtime: StreamRuntime::with_options(graph.clone(), options.clone())?,
            catalog: Catalog::new(&graph),
            state: None,
            pushes: Idempotency::default(),
            bootstrapped: false,
            kafka: KafkaState::default(),
            events_since_checkpoint: 0,
            checkpoint_events: 5_000_000,
            recovered: "in memory only: nothing is kept when the store is closed".into(),
        };
        let Some(dir) = dir else {
            return Ok(store);
        };
        let identity = Identity::of(&graph).map_err(|e| corrupt(e.to_string()))?;
        let (state, found) = StateDir::open(dir, &identity)?;
        let mut from = "an empty state".to_string();
        if let Some((header, snapshot)) = found.checkpoint {
            store.runtime = StreamRuntime::restore(graph, options, &snapshot).map_err(|e| {
                corrupt(format!(
                    "the checkpoint in `{}` cannot be loaded: {e}",
                    dir.display()
                ))
            })?;
            for (k, accepted, late) in header.pushes {
                store.pushes.insert(k, accepted, late);
            }
            store.bootstrapped = header.bootstrapped;
            store.kafka = header.kafka;
            from = format!("the checkpoint of record {}", header.upto);
        }
        let replayed = found.records.len();
        for (seq, record) in found.records {
            // Every logged push was checked before it was logged: one that fails now
            // means the directory is not what was written.
            let o = PushOutcome::apply(&mut store.runtime, &record.source, &record.batch)
                .map_err(|e| corrupt(format!("log record {seq} cannot be applied: {e}")))?;
            if let Some(k) = record.key {
                store.pushes.insert(k, o.accepted, o.late);
            }
            store.events_since_checkpoint += o.accepted;
        }
        store.recovered = format!(
            "`{}`: loaded {from}, re-applied {replayed} logged pushes{}",
            dir.display(),
            if found.dropped_tail_bytes > 0 {
                format!(
                    " (a torn last write of {} bytes, never acknowledged, was dropped)",
                    found.dropped_tail_bytes
                )
            } else {
                String::new()
            }
        );
        store.state = Some(state);
        Ok(store)
    }

    /// What `open` found, in a sentence.
    pub fn recovered(&self) -> &str {
        &self.recovered
    }

    /// The names reads and pushes use (features, services, entities, sources).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The catalog and the runtime at once: a read resolves its names in the one and
    /// reads the other.
    pub fn catalog_and_runtime(&mut self) -> (&Catalog, &mut StreamRuntime) {
        (&self.catalog, &mut self.runtime)
    }

    /// Whether pushes are kept in a state directory.
    pub fn is_durable(&self) -> bool {
        self.state.is_some()
    }

    /// Pushes a batch of `source` events: checked whole (refused whole: a column the
    /// source does not declare, a value that does not fit), logged and
    /// fsynced when durable, then applied. A push with the `key` of one applied
    /// before is not applied again: its first answer comes back, marked duplicate.
    pub fn push(
        &mut self,
        source: &str,
        batch: &RecordBatch,
        key: Option<String>,
    ) -> Result<PushOutcome, StoreError> {
        if let Some((accepted, late)) = key.as_deref().and_then(|k| self.pushes.get(k)) {
            return Ok(PushOutcome {
                accepted,
                late,
                duplicate: true,
            });
        }
        if let Ok(entry) = self.catalog.source(source) {
            let names = batch
                .schema_ref()
                .fields()
                .iter()
                .map(|f| f.name().as_str());
            if let Some((column, suggestion)) = entry.undeclared(names) {
                return Err(StoreError::UndeclaredColumn {
                    source: source.to_string(),
                    column,
                    suggestion,
                });
            }
        }
        self.runtime.check(source, batch)?;
        if let Some(state) = &mut self.state {
            let record = Record {
                source: source.to_string(),
                key: key.clone(),
                batch: batch.clone(),
            };
            let bytes = record.encode().map_err(DurableError::Storage)?;
            state.log.append(&[bytes])?;
        }
        let outcome = PushOutcome::apply(&mut self.runtime, source, batch)?;
        if let Some(k) = key {
            self.pushes.insert(k, outcome.accepted, outcome.late);
        }
        self.events_since_checkpoint += outcome.accepted;
        if self.state.is_some() && self.events_since_checkpoint >= self.checkpoint_events {
            self.checkpoint()?;
        }
        Ok(outcome)
    }

    /// Writes a checkpoint of the whole state and forgets the log before it (a no-op
    /// in memory). Opening the directory again then loads it instead of re-applying
    /// the log.
    pub fn checkpoint(&mut self) -> Result<(), StoreError> {
        let Some(state) = &mut self.state else {
            return Ok(());
        };
        let snapshot = self
            .runtime
            .snapshot()
            .map_err(|e| DurableError::Storage(e.to_string()))?;
        let upto = state.log.next_seq();
        let header = Header {
            upto,
            pushes: self.pushes.entries(),
            bootstrapped: self.bootstrapped,
            kafka: self.kafka.clone(),
            snapshot_bytes: snapshot.len() as u64,
            layout: self.runtime.graph().group_features(),
        };
        checkpoint::write(&state.dir, &header, &snapshot)?;
        state.log.truncate_before(upto)?;
        self.events_since_checkpoint = 0;
        Ok(())
    }

    /// The runtime, for reads (`StreamRuntime::read`) and metrics. Pushes
    /// go through `push`, never to the runtime directly, or they would not be durable.
    pub fn runtime(&mut self) -> &mut StreamRuntime {
        &mut self.runtime
    }
}

fn corrupt(message: String) -> StoreError {
    StoreError::State(DurableError::Corrupt(message))
}
