//! `OnlineState`: the shared, read side of the core, behind an `Arc`: the runtime
//! (one copy), the names, the clock, what reads served and the writer's counters.
//! Everyone reads through it (`read_rows` in `read`, `read` for scans such as the
//! Redis sink's, `runtime_view` for metrics); only the ledger, recovery and the
//! history loader of this module change it (`write` is `pub(in crate::state)`), so
//! nothing above the core can change the state.
//!
//! Lock discipline: the write side holds the runtime's lock while it applies (and
//! while a checkpoint takes the state); a read never takes it: it reads through the
//! runtime's `StreamReader`, which holds only the shard of the entity it reads, for
//! at most one chunk of a push (`featc_runtime::stream`'s `entities`). So reads never
//! wait behind a push being applied, and the state is held once.

use std::sync::{Arc, Mutex, MutexGuard};

use featc_runtime::stream::{Options, StreamGraph, StreamReader, StreamRuntime, TierMetrics};

use super::counters::StateCounters;
use super::dead_letters::DeadLetterStore;
use super::progress::LogProgress;
use crate::config::{Clock, StateConfig};
use crate::names::Names;
use crate::served::Served;
use crate::wire::time::now_us;

/// The shared state (see the module docs).
pub struct OnlineState {
    /// The write side's (the ledger's, recovery's, checkpoints').
    runtime: Mutex<StreamRuntime>,
    /// Every read's.
    reader: StreamReader,
    /// Bytes and entities of the disk tier's store, when there is one.
    store: Option<Arc<crate::durable::EntityStore>>,
    graph: StreamGraph,
    config: StateConfig,
    names: Arc<Names>,
    served: Arc<Served>,
    counters: StateCounters,
    /// Every event kept out of the state (see `dead_letters`): filled by the write
    /// side in the step that kept them out, listed by anyone.
    dead: Mutex<DeadLetterStore>,
    /// How far into the log the state is (set by the write side, read by reads).
    progress: LogProgress,
}

/// One source on `/metrics`: name, watermark, latest event time (µs), freshness
/// contract (µs).
pub type SourceRow = (String, Option<i64>, Option<i64>, Option<i64>);

/// What `/metrics` shows of the runtime at one scrape.
#[derive(Debug, Clone, Default)]
pub struct RuntimeView {
    pub events: u64,
    pub late: u64,
    pub dead_lettered: u64,
    pub null_keys: u64,
    /// Events waiting for their as-of lookups.
    pub held_rows: u64,
    pub entities: u64,
    pub expired_entities: u64,
    pub state_bytes: u64,
    pub sources: Vec<SourceRow>,
    /// The disk tier's cache and store, when there is one.
    pub tier: TierMetrics,
    /// Bytes the disk tier's store takes on disk.
    pub store_disk_bytes: u64,
}

impl OnlineState {
    pub(in crate::state) fn new(
        runtime: StreamRuntime,
        store: Option<Arc<crate::durable::EntityStore>>,
        graph: StreamGraph,
        config: StateConfig,
    ) -> OnlineState {
        let names = Arc::new(Names::new(&graph));
        let served = Arc::new(Served::new(&names, runtime.reader().holding_views()));
        let dead = Mutex::new(DeadLetterStore::new(config.dead_letters));
        OnlineState {
            reader: runtime.reader(),
            runtime: Mutex::new(runtime),
            store,
            graph,
            config,
            names,
            served,
            counters: StateCounters::default(),
            dead,
            progress: LogProgress::default(),
        }
    }

    /// Runs `f` on the dead-letter store, under its lock (keep it short: the writer
    /// adds letters under it).
    pub fn dead_letters<R>(&self, f: impl FnOnce(&DeadLetterStore) -> R) -> R {
        f(&self.dead_store())
    }

    /// Changes the dead-letter store (the write side only).
    pub(in crate::state) fn dead_letters_mut<R>(
        &self,
        f: impl FnOnce(&mut DeadLetterStore) -> R,
    ) -> R {
        f(&mut self.dead_store())
    }

    /// The store, locked; a holder that panicked left it whole (every change to it
    /// is one call), so its lock is taken over.
    fn dead_store(&self) -> std::sync::MutexGuard<'_, DeadLetterStore> {
        self.dead.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `letters` in the store, kept now.
    pub(in crate::state) fn keep_dead(&self, letters: Vec<crate::durable::DeadLetter>) {
        if !letters.is_empty() {
            self.dead_letters_mut(|d| d.add(letters, now_us()));
        }
    }

    /// The names reads and pushes use.
    pub fn names(&self) -> &Arc<Names> {
        &self.names
    }

    /// What every read served (fill counts, the served log).
    pub fn served(&self) -> &Arc<Served> {
        &self.served
    }

    /// How far into the write-ahead log the state is.
    pub fn progress(&self) -> &LogProgress {
        &self.progress
    }

    /// The writer's counters.
    pub fn counters(&self) -> &StateCounters {
        &self.counters
    }

    pub fn clock(&self) -> Clock {
        self.config.clock
    }

    pub fn config(&self) -> &StateConfig {
        &self.config
    }

    /// The graph the state runs.
    pub fn graph(&self) -> &StreamGraph {
        &self.graph
    }

    pub fn options(&self) -> &Options {
        &self.config.options
    }

    /// The default read time under the state's clock (as the state last published it).
    pub fn now(&self, rt: &StreamReader) -> i64 {
        match self.config.clock {
            Clock::Wall => now_us(),
            Clock::Events => self
                .names
                .sources
                .iter()
                .filter_map(|s| rt.latest_event_time(&s.name))
                .max()
                .unwrap_or(0),
        }
    }

    /// Runs `f` on the state (see the module docs: it never waits for a push).
    pub fn read<R>(&self, f: impl FnOnce(&StreamReader) -> R) -> R {
        f(&self.reader)
    }

    /// What `/metrics` shows of the runtime (O(entities held)).
    pub fn runtime_view(&self) -> RuntimeView {
        let rt = &self.reader;
        let m = rt.metrics();
        RuntimeView {
            events: m.events,
            late: m.late,
            dead_lettered: m.dead_lettered,
            null_keys: m.null_keys,
            held_rows: m.held_rows,
            entities: m.entities,
            expired_entities: m.expired_entities,
            state_bytes: m.state_bytes,
            sources: self
                .names
                .sources
                .iter()
                .map(|s| {
                    (
                        s.name.clone(),
                        rt.watermark(&s.name),
                        rt.latest_event_time(&s.name),
                        rt.freshness_contract(&s.name).flatten(),
                    )
                })
                .collect(),
            tier: rt.tier_metrics(),
            store_disk_bytes: self.store.as_ref().map_or(0, |s| s.disk_bytes()),
        }
    }

    /// The runtime, for the write side; a holder that panicked is taken over (the
    /// runtime takes a batch whole or not at all).
    fn runtime(&self) -> MutexGuard<'_, StreamRuntime> {
        self.runtime.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `change` to the state (reads go on meanwhile; see the module docs).
    pub(in crate::state) fn write<R>(&self, change: impl FnOnce(&mut StreamRuntime) -> R) -> R {
        change(&mut self.runtime())
    }

    /// Runs `f` on the state between writes (e.g. to take a checkpoint): holds up
    /// writes, never reads.
    pub(in crate::state) fn spare<R>(&self, f: impl FnOnce(&StreamRuntime) -> R) -> R {
        f(&self.runtime())
    }
}
