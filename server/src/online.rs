//! The state every route shares: the runtime in two copies (`Replicas`), an empty
//! runtime of the same graph that checks pushes without touching the state, the
//! catalog, the phase (loading history, ready, stopping), the counters, and the push
//! queue (`writer`).
//!
//! Lock discipline: JSON is decoded and encoded outside any lock; a read holds the
//! published copy for its lookups only, and never waits for a push being applied
//! (the writer changes the other copy, then swaps them).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use featc_runtime::stream::{
    FeatureVector, Keys, Read, Request, Selection, StreamError, StreamRuntime,
};
use featc_runtime::value::Value;

use crate::api::error::ApiError;
use crate::catalog::Catalog;
use crate::config::{Clock, ServeConfig};
use crate::metrics::{RuntimeView, ServerStats};
use crate::replicas::Replicas;
use crate::time::{format_time, now_us};
use crate::writer::WriterHandle;

/// Where the server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Bootstrapping = 0,
    Ready = 1,
    ShuttingDown = 2,
}

/// The answer to a push (also what a repeated idempotency key gets again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushOutcome {
    pub accepted: u64,
    pub late: u64,
    /// True when the idempotency key was seen before and nothing was applied now.
    pub duplicate: bool,
}

impl PushOutcome {
    /// Applies a checked push to `rt`: how many rows it took and how many were late.
    /// The writer applies live pushes and a restart re-applies logged ones through
    /// here, so both count the same.
    pub fn apply(
        rt: &mut StreamRuntime,
        source: &str,
        batch: &datafusion::arrow::record_batch::RecordBatch,
    ) -> Result<PushOutcome, StreamError> {
        let late_before = rt.late_events();
        rt.ingest(source, batch)?;
        Ok(PushOutcome {
            accepted: batch.num_rows() as u64,
            late: rt.late_events() - late_before,
            duplicate: false,
        })
    }
}

/// Recent pushes by idempotency key, bounded (oldest forgotten first).
#[derive(Debug, Default)]
pub struct Idempotency {
    by_key: HashMap<String, (u64, u64)>,
    order: VecDeque<String>,
}

/// How many idempotency keys a server remembers.
pub const IDEMPOTENCY_KEYS: usize = 100_000;

impl Idempotency {
    pub fn get(&self, key: &str) -> Option<(u64, u64)> {
        self.by_key.get(key).copied()
    }

    pub fn insert(&mut self, key: String, accepted: u64, late: u64) {
        if self.by_key.insert(key.clone(), (accepted, late)).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > IDEMPOTENCY_KEYS {
            if let Some(old) = self.order.pop_front() {
                self.by_key.remove(&old);
            }
        }
    }

    /// Oldest first, for a checkpoint.
    pub fn entries(&self) -> Vec<(String, u64, u64)> {
        self.order
            .iter()
            .filter_map(|k| self.by_key.get(k).map(|&(a, l)| (k.clone(), a, l)))
            .collect()
    }
}

/// The shared state of a server.
pub struct Online {
    /// The online state; the writer thread is its only writer once serving.
    pub state: Replicas<StreamRuntime>,
    /// An empty runtime of the same graph: `check` needs no state, so pushes are
    /// checked without touching the state.
    pub checker: StreamRuntime,
    pub catalog: Catalog,
    pub config: ServeConfig,
    pub stats: ServerStats,
    phase: AtomicU8,
    pub boot_done: AtomicU64,
    pub boot_total: AtomicU64,
    pub writer: WriterHandle,
    /// The latest dead-lettered Kafka records (`kafka::DEAD_KEPT`), oldest first, as
    /// the writer recorded them (for `GET /kafka/dead-letters`).
    pub kafka_dead: std::sync::Mutex<std::collections::VecDeque<crate::kafka::decode::DeadRecord>>,
    /// The Redis sink, told of every batch the writer applies (`--sink`).
    pub sink: std::sync::OnceLock<crate::redis::SinkHandle>,
    /// Per-feature fill counts of the answered reads, and the served log's channel.
    pub served: crate::served::Served,
}

/// Entity key values of a read, one row per entity asked for: for each entity of the
/// catalog that the read needs, its key values (`None`: the read does not need it).
pub struct KeyRows {
    pub rows: usize,
    pub keys: Vec<Option<Vec<Vec<Value>>>>,
    /// The request fields the read's derived features need (Feast's
    /// `request_context`): (field name, one value per row).
    pub request: Vec<(String, Vec<Value>)>,
}

impl Online {
    pub fn new(
        state: Replicas<StreamRuntime>,
        checker: StreamRuntime,
        catalog: Catalog,
        config: ServeConfig,
        writer: WriterHandle,
    ) -> Online {
        let catalog_features = catalog.features.len();
        Online {
            state,
            checker,
            catalog,
            config,
            stats: ServerStats::default(),
            phase: AtomicU8::new(Phase::Bootstrapping as u8),
            boot_done: AtomicU64::new(0),
            boot_total: AtomicU64::new(0),
            writer,
            kafka_dead: Default::default(),
            sink: Default::default(),
            served: crate::served::Served::new(catalog_features),
        }
    }

    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Bootstrapping,
            1 => Phase::Ready,
            _ => Phase::ShuttingDown,
        }
    }

    pub fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
    }

    /// Refuses requests unless the server is ready.
    pub fn require_ready(&self) -> Result<(), ApiError> {
        match self.phase() {
            Phase::Ready => Ok(()),
            Phase::Bootstrapping => Err(ApiError::Bootstrapping {
                done: self.boot_done.load(Ordering::Relaxed),
                total: self.boot_total.load(Ordering::Relaxed),
            }),
            Phase::ShuttingDown => Err(ApiError::ShuttingDown),
        }
    }

    /// The default read time under the server's clock (`rt` held by the caller).
    pub(crate) fn now(&self, rt: &StreamRuntime) -> i64 {
        match self.config.clock {
            Clock::Wall => now_us(),
            Clock::Events => self
                .catalog
                .sources
                .iter()
                .filter_map(|s| rt.latest_event_time(&s.name))
                .max()
                .unwrap_or(0),
        }
    }

    /// Reads `features` (catalog indices) for every row of `keys` at `at` (default:
    /// now under the server's clock); returns the read time and one vector per row.
    pub fn read(
        &self,
        features: &[usize],
        keys: &KeyRows,
        at: Option<i64>,
    ) -> Result<(i64, Vec<FeatureVector>), ApiError> {
        self.state.read(|rt| self.read_in(rt, features, keys, at))
    }

    fn read_in(
        &self,
        rt: &mut StreamRuntime,
        features: &[usize],
        keys: &KeyRows,
        at: Option<i64>,
    ) -> Result<(i64, Vec<FeatureVector>), ApiError> {
        let t = at.unwrap_or_else(|| self.now(&*rt));
        let mut out = Vec::with_capacity(keys.rows);
        let mut by_entity: Vec<(&str, &[Value])> = Vec::with_capacity(keys.keys.len());
        let mut fields: Vec<(&str, Value)> = Vec::with_capacity(keys.request.len());
        for row in 0..keys.rows {
            fields.clear();
            for (name, values) in &keys.request {
                fields.push((name, values.get(row).cloned().unwrap_or(Value::Null)));
            }
            by_entity.clear();
            for (e, k) in keys.keys.iter().enumerate() {
                if let (Some(rows), Some(entity)) = (k, self.catalog.entities.get(e)) {
                    if let Some(key) = rows.get(row) {
                        by_entity.push((entity.name.as_str(), key.as_slice()));
                    }
                }
            }
            let read = Read::new(Keys::ByEntity(&by_entity), Selection::Indices(features), t)
                .with_request(Request::new(&fields));
            let v = rt.read(&read).map_err(|e| match e {
                StreamError::ReadBeforeHorizon { at, horizon } => ApiError::ReadBeforeHorizon {
                    at: format_time(at),
                    horizon: format_time(horizon),
                },
                other => ApiError::BadField {
                    field: "entities".into(),
                    message: other.to_string(),
                },
            })?;
            out.push(v);
        }
        Ok((t, out))
    }

    /// What `/metrics` shows of the runtime (O(entities): on the copy readers are
    /// not using).
    pub fn runtime_view(&self) -> RuntimeView {
        self.state.spare(|rt| self.runtime_view_of(rt))
    }

    fn runtime_view_of(&self, rt: &StreamRuntime) -> RuntimeView {
        let m = rt.metrics();
        RuntimeView {
            events: m.events,
            late: m.late,
            dead_lettered: m.dead_lettered,
            null_keys: m.null_keys,
            entities: m.entities,
            state_bytes: m.state_bytes,
            sources: self
                .catalog
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
            ready: self.phase() == Phase::Ready,
        }
    }
}
