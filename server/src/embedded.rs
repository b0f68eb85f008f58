//! The online state without a server: the state's core (`state::open`, a `Ledger`,
//! one copy of the state) driven from the calling thread, durable when given a state
//! directory. The directory has the format of `featc serve --state` (identity,
//! write-ahead log, checkpoints), so a state built embedded can be served and the
//! other way round (one process at a time: fjall locks the log). The Python
//! package's `Project.online(state=...)` is this.
//!
//! A read's time is given as the caller has it (`ReadAt`): a bare integer is read as
//! `featc serve` reads an integer `at`, microseconds only when plausible (16 digits,
//! docs/semantics.md, "Integer times"), so a time in seconds is never read as 1970.
//!
//! Guarantees, as the server's (docs/serving.md, "Durability"): a push is checked
//! whole first (nothing of a refused push is applied or logged), then logged and
//! fsynced, then applied; `push` returns only after that, so an acknowledged push
//! survives any crash and a restart re-applies it exactly once. Reads are counted
//! and, with `log_served`, logged like the server's.
//!
//! Acknowledgement means one thing: `push` returns an error only when nothing of the
//! push was applied (refused by the check, or the log append failed). A checkpoint
//! that `push` takes because one is due happens after the push is durable and
//! applied, so its failure is not the push's: the push is answered `Ok`, the failure
//! is kept (`checkpoint_error`, counted in the state's `checkpoint_failures`) and the
//! checkpoint is tried again at the next due point, as many events later (the log
//! keeps everything meanwhile).

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::row::time::{epoch_micros, EpochError};
use featc_runtime::stream::{Options, StreamGraph};

use crate::config::StateConfig;
use crate::durable::DurableError;
use crate::names::Names;
use crate::served::log::{Rotation, ServedLog, ServedLogError};
use crate::state::{
    self, Ledger, OnlineState, PushCheck, PushError, PushOutcome, ReadError, ReadPlan, Recovered,
    Replay, RowSource, StateError, TableRead, VectorSink,
};

/// The durable state, driven from one thread.
pub struct EmbeddedStore {
    state: OnlineState,
    ledger: Ledger,
    check: PushCheck,
    recovered: String,
    /// The served log's writer (`log_served`), finished when the store closes.
    served_log: Option<ServedLog>,
    /// Why the last checkpoint a push took failed, until one succeeds.
    checkpoint_error: Option<DurableError>,
}

impl EmbeddedStore {
    /// An empty store in memory, or the store in `dir` (created if new; its
    /// checkpoint loaded and its log re-applied; refused when it was built for other
    /// features, or when a logged push no longer applies).
    pub fn open(
        graph: StreamGraph,
        options: Options,
        dir: Option<&Path>,
    ) -> Result<EmbeddedStore, StateError> {
        EmbeddedStore::open_with(graph, StateConfig::embedded(options), dir)
    }

    /// `open` under another policy than the embedded store's (`config`'s checkpoint
    /// thresholds and options).
    pub fn open_with(
        graph: StreamGraph,
        config: StateConfig,
        dir: Option<&Path>,
    ) -> Result<EmbeddedStore, StateError> {
        let (options, max_future_us) = (config.options.clone(), config.max_future_us);
        let (state, ledger, recovered) = state::open(graph, config, dir, Replay::EMBEDDED)?;
        let check = PushCheck::new(
            state.graph(),
            options,
            Arc::clone(state.names()),
            max_future_us,
        )?;
        Ok(EmbeddedStore {
            recovered: sentence(&recovered),
            state,
            ledger,
            check,
            served_log: None,
            checkpoint_error: None,
        })
    }

    /// What `open` found, in a sentence.
    pub fn recovered(&self) -> &str {
        &self.recovered
    }

    /// The names reads and pushes use (features, services, entities, sources).
    pub fn names(&self) -> &Names {
        self.state.names()
    }

    /// The state, for reads (`OnlineState::read_table`, `read_rows`, `read`).
    /// Pushes go through `push`, never to the state directly.
    pub fn state(&self) -> &OnlineState {
        &self.state
    }

    /// Reads `features` for every row of `rows` at `at` (see
    /// `OnlineState::read_table`); returns the read time (µs) and the answer.
    pub fn read_table(
        &self,
        features: Vec<usize>,
        rows: &RecordBatch,
        at: ReadAt,
    ) -> Result<(i64, TableRead), EmbeddedReadError> {
        let at = at.micros().map_err(EmbeddedReadError::At)?;
        self.state
            .read_table(features, rows, Some(at))
            .map_err(EmbeddedReadError::Read)
    }

    /// Reads `plan`'s features for every row of `rows` at `at` into `out` (see
    /// `OnlineState::read_rows`, the loop `read_table` runs too); returns the read
    /// time (µs). For rows typed without Arrow: the Python package's one-entity
    /// read gives one row of plain values (`KeyRows`).
    pub fn read_rows(
        &self,
        plan: &ReadPlan,
        rows: &impl RowSource,
        at: ReadAt,
        out: &mut impl VectorSink,
    ) -> Result<i64, EmbeddedReadError> {
        let at = at.micros().map_err(EmbeddedReadError::At)?;
        self.state
            .read_rows(plan, rows, Some(at), out)
            .map_err(EmbeddedReadError::Read)
    }

    /// Whether pushes are kept in a state directory.
    pub fn is_durable(&self) -> bool {
        self.ledger.is_durable()
    }

    /// Pushes a batch of `source` events: checked whole (refused whole: a column the
    /// source does not declare, a value that does not fit), logged and fsynced when
    /// durable, then applied. A push with the `key` of one applied before is not
    /// checked or applied again: its first answer comes back, marked duplicate. An
    /// error means nothing of the push was applied (see the module docs: a due
    /// checkpoint that fails afterwards is `checkpoint_error`, not the push's error).
    pub fn push(
        &mut self,
        source: &str,
        batch: &RecordBatch,
        key: Option<String>,
    ) -> Result<PushOutcome, PushError> {
        if let Some(first) = key.as_deref().and_then(|k| self.ledger.answered(k)) {
            return Ok(first);
        }
        let checked = self.check.check(source, batch.clone())?.with_key(key);
        let committed = self.ledger.commit(&self.state, vec![checked]);
        let outcome = committed
            .answers
            .into_iter()
            .next()
            .unwrap_or(Err(PushError::Stopped))?;
        // The push is durable and applied: from here on nothing is its error.
        match self.ledger.checkpoint_if_due(&self.state) {
            Ok(true) => self.checkpoint_error = None,
            Ok(false) => {}
            Err(e) => self.checkpoint_error = Some(e),
        }
        Ok(outcome)
    }

    /// Why the last checkpoint a push took failed (`None` once one succeeds): the
    /// pushes before it are in the log, and the checkpoint is tried again at the next
    /// due point (as many events later), or by `checkpoint`.
    pub fn checkpoint_error(&self) -> Option<&DurableError> {
        self.checkpoint_error.as_ref()
    }

    /// Writes a checkpoint of the whole state and forgets the log before it (a no-op
    /// in memory). Opening the directory again then loads it instead of re-applying
    /// the log.
    pub fn checkpoint(&mut self) -> Result<(), StateError> {
        self.ledger.checkpoint(&self.state, None)?;
        self.checkpoint_error = None;
        Ok(())
    }

    /// Appends every answered vector of this store's reads to Parquet files in `dir`
    /// (as `featc serve --log-served` does), a new file past `rotate` bytes, with
    /// `metadata` in each file's schema; the last file is completed by `close`.
    pub fn log_served(
        &mut self,
        dir: &Path,
        rotate: u64,
        metadata: &[(String, String)],
    ) -> Result<(), ServedLogError> {
        self.stop_logging();
        self.served_log = Some(ServedLog::start(
            self.state.served(),
            self.state.clock(),
            dir,
            Rotation {
                bytes: rotate,
                age: crate::config::DEFAULT_LOG_SERVED_MAX_AGE,
            },
            metadata,
        )?);
        Ok(())
    }

    /// Checkpoints and completes the served log's last file.
    pub fn close(&mut self) -> Result<(), StateError> {
        self.stop_logging();
        self.checkpoint()
    }

    fn stop_logging(&mut self) {
        self.state.served().detach();
        if let Some(log) = self.served_log.take() {
            log.finish();
        }
    }
}

/// When a read is, as its caller gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAt {
    /// A typed time (a datetime, RFC 3339 text, a timestamp) already converted to
    /// microseconds: taken as it is.
    Micros(i64),
    /// A bare integer. A read has no source, so no `epoch` clause: the plausibility
    /// rule alone applies (`epoch_micros` without a unit), as to `featc serve`'s
    /// integer `at`.
    Integer(i64),
}

impl ReadAt {
    /// The read time in microseconds, or why the integer is not one.
    pub fn micros(self) -> Result<i64, EpochError> {
        match self {
            ReadAt::Micros(us) => Ok(us),
            ReadAt::Integer(value) => epoch_micros(value, None),
        }
    }
}

/// Why an embedded read was not answered.
#[derive(Debug, Clone, PartialEq)]
pub enum EmbeddedReadError {
    /// The read time is an integer that is not plausible microseconds.
    At(EpochError),
    /// The state refused the read.
    Read(ReadError),
}

impl std::fmt::Display for EmbeddedReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmbeddedReadError::At(e) => write!(f, "at: {e}"),
            EmbeddedReadError::Read(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for EmbeddedReadError {}

impl Drop for EmbeddedStore {
    /// A store dropped without `close` still completes its served log's file.
    fn drop(&mut self) {
        self.stop_logging();
    }
}

/// What opening found, in the sentence the embedded store has always said.
fn sentence(found: &Recovered) -> String {
    let Some(dir) = &found.dir else {
        return "in memory only: nothing is kept when the store is closed".into();
    };
    let from = match found.checkpoint {
        Some(upto) => format!("the checkpoint of record {upto}"),
        None => "an empty state".to_string(),
    };
    format!(
        "`{}`: loaded {from}, re-applied {} logged pushes{}",
        dir.display(),
        found.replayed,
        if found.dropped_tail_bytes > 0 {
            format!(
                " (a torn last write of {} bytes, never acknowledged, was dropped)",
                found.dropped_tail_bytes
            )
        } else {
            String::new()
        }
    )
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::Relaxed;

    use datafusion::arrow::array::{Array, Int64Array};
    use featc_runtime::ir::EpochUnit;

    use super::*;
    use crate::state::testing::{clicks, graph, TempDir};

    const T: i64 = 1_709_294_400_000_000;

    fn events(store: &EmbeddedStore) -> u64 {
        store.state().read(|r| r.metrics().events)
    }

    /// A checkpoint that fails after a push was logged and applied is not the push's
    /// error: the push is answered, counted once, and still there after a reopen; a
    /// retry of it with no key would have counted it twice.
    #[test]
    fn a_failing_checkpoint_after_a_push_does_not_fail_the_push() {
        let temp = TempDir::new("embedded-checkpoint");
        let dir = temp.path();
        let mut config = StateConfig::embedded(Options::default());
        config.checkpoint_events = 2;
        let mut store = EmbeddedStore::open_with(graph(), config.clone(), Some(dir)).unwrap();
        // The checkpoint's temporary file cannot be created: every checkpoint fails.
        temp.block("checkpoint.tmp");
        let rows = clicks(&[(T, 1, 1.0), (T + 1, 2, 2.0)]);
        let answer = store.push("clicks", &rows, None);
        assert_eq!(
            answer.map(|o| o.accepted),
            Ok(2),
            "the push is acknowledged"
        );
        assert!(store.checkpoint_error().is_some(), "the failure is kept");
        assert_eq!(
            store.state().counters().checkpoint_failures.load(Relaxed),
            1
        );
        assert_eq!(events(&store), 2);
        // Not retried at every push: at the next due point, two events later (here
        // still failing, then succeeding once unblocked).
        let one = |t| clicks(&[(T + t, 1, 3.0)]);
        let failures =
            |store: &EmbeddedStore| store.state().counters().checkpoint_failures.load(Relaxed);
        assert_eq!(
            store.push("clicks", &one(2), None).map(|o| o.accepted),
            Ok(1)
        );
        assert_eq!(failures(&store), 1);
        assert_eq!(
            store.push("clicks", &one(3), None).map(|o| o.accepted),
            Ok(1)
        );
        assert_eq!(failures(&store), 2);
        temp.unblock("checkpoint.tmp");
        assert_eq!(
            store.push("clicks", &one(4), None).map(|o| o.accepted),
            Ok(1)
        );
        assert!(store.checkpoint_error().is_some(), "not due yet");
        assert_eq!(
            store.push("clicks", &one(5), None).map(|o| o.accepted),
            Ok(1)
        );
        assert!(store.checkpoint_error().is_none(), "a checkpoint succeeded");
        assert_eq!(store.state().counters().checkpoints.load(Relaxed), 1);
        drop(store);
        let store = EmbeddedStore::open_with(graph(), config, Some(dir)).unwrap();
        assert_eq!(events(&store), 6, "every acknowledged push, once");
    }

    /// A read's bare integer time is microseconds only when it has 16 digits, as
    /// `featc serve` reads one: epoch seconds are refused naming the unit they look
    /// like (never read as a 1970 instant, which would answer zeros), and so are a
    /// 1970 instant and a negative number; 16 digits read what the typed time reads.
    #[test]
    fn an_integer_read_time_is_microseconds_only_when_plausible() {
        let mut store = EmbeddedStore::open(graph(), Options::default(), None).unwrap();
        let pushed = store.push("clicks", &clicks(&[(T, 1, 1.0)]), None);
        assert_eq!(pushed.map(|o| o.accepted), Ok(1));
        let rows = clicks(&[(T, 1, 0.0)]);
        let feature = vec![0];
        let refused = |at: ReadAt| store.read_table(feature.clone(), &rows, at).err();
        let seconds = (T + 1) / 1_000_000;
        assert_eq!(
            refused(ReadAt::Integer(seconds)),
            Some(EmbeddedReadError::At(EpochError::Implausible {
                value: seconds,
                looks_like: Some(EpochUnit::Seconds),
            }))
        );
        for implausible in [0, 1, -T, 1_000_000_000_000_000 - 1, 10_000_000_000_000_000] {
            assert!(
                matches!(
                    refused(ReadAt::Integer(implausible)),
                    Some(EmbeddedReadError::At(_))
                ),
                "{implausible}"
            );
        }
        let answer = |at: ReadAt| {
            let (t, read) = store.read_table(feature.clone(), &rows, at).unwrap();
            (t, read.into_batch(t, true).unwrap())
        };
        let (t, typed) = answer(ReadAt::Micros(T + 1));
        assert_eq!(t, T + 1);
        assert_eq!(answer(ReadAt::Integer(T + 1)), (t, typed.clone()));
        let counted = typed
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(
            (counted.len(), counted.value(0)),
            (1, 1),
            "the push is read"
        );
    }
}
