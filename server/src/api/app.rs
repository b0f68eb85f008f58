//! `App`: what the HTTP routes share, and nothing more: the state's read side, the
//! push checker and the writer's handle (the narrow doors to the core), the limits
//! and tokens of the flags, the phase (loading history, ready, stopping) with the
//! bootstrap's progress, the requests' counters and the permits that bound them,
//! and what `/metrics` and `/kafka/dead-letters` show of the other parts.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::error::ApiError;
use super::read_plans::ReadPlans;
use crate::config::ServeConfig;
use crate::kafka::KafkaProgress;
use crate::metrics::{RequestCounters, ViewCache};
use crate::redis::SinkCounters;
use crate::state::{OnlineState, PushCheck};
use crate::writer::WriterHandle;

/// Where the server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Bootstrapping = 0,
    Ready = 1,
    ShuttingDown = 2,
}

/// The flags the routes enforce.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bearer token reads must carry (`None`: reads are open).
    pub read_token: Option<String>,
    /// Bearer token pushes must carry (`None`: pushes are open).
    pub push_token: Option<String>,
    /// The largest request body accepted, in bytes (a larger one is a 413).
    pub body_limit: usize,
    /// The most entities one read may ask for (more is a 400).
    pub max_entities: usize,
    /// Connections served at once (`api::connections`).
    pub max_connections: u32,
    /// Requests handled at once (`api::guard`).
    pub max_in_flight: u32,
    /// Pushes taken but not yet answered (`api::guard`).
    pub max_queued_pushes: u32,
    /// How long a connection may take to send a request's headers, or stay idle
    /// between requests.
    pub header_timeout: Duration,
    /// How long a connection may move no byte either way.
    pub idle_timeout: Duration,
}

impl Limits {
    pub fn of(config: &ServeConfig) -> Limits {
        Limits {
            read_token: config.read_token.clone(),
            push_token: config.push_token.clone(),
            body_limit: config.body_limit,
            max_entities: config.max_entities,
            max_connections: config.max_connections.max(1),
            max_in_flight: config.max_in_flight.max(1),
            max_queued_pushes: config.max_queued_pushes.max(1),
            header_timeout: config.header_timeout,
            idle_timeout: config.idle_timeout,
        }
    }
}

/// The routes' context (see the module docs).
pub struct App {
    pub state: Arc<OnlineState>,
    pub check: Arc<PushCheck>,
    pub writer: WriterHandle,
    pub limits: Limits,
    pub counters: RequestCounters,
    /// The Kafka source's progress (counters and dead records), shown, never changed.
    pub kafka: Arc<KafkaProgress>,
    /// The Redis sink's counters, shown.
    pub redis: Arc<SinkCounters>,
    phase: AtomicU8,
    /// History events loaded, and to load (`/health` while bootstrapping).
    pub boot_done: AtomicU64,
    pub boot_total: AtomicU64,
    /// One permit per request being handled (`Limits::max_in_flight`).
    pub in_flight: Semaphore,
    /// One permit per push taken and not yet answered (`Limits::max_queued_pushes`).
    pub queued_pushes: Semaphore,
    /// The runtime's view for `/metrics`, one scan at a time.
    pub view: ViewCache,
    /// Reads' names, resolved once per list (`read_plans`).
    pub read_plans: ReadPlans,
    /// Group mode: where each key's partition is answered (`route`); set once.
    routing: std::sync::OnceLock<Arc<dyn super::route::Routing>>,
    /// What `/metrics` shows from outside the server (`Server::add_metrics`).
    more_metrics: std::sync::Mutex<Vec<Arc<dyn crate::metrics::MetricsSource>>>,
}

impl App {
    pub fn new(
        state: Arc<OnlineState>,
        check: Arc<PushCheck>,
        writer: WriterHandle,
        limits: Limits,
        kafka: Arc<KafkaProgress>,
        redis: Arc<SinkCounters>,
    ) -> App {
        App {
            in_flight: Semaphore::new(limits.max_in_flight as usize),
            queued_pushes: Semaphore::new(limits.max_queued_pushes as usize),
            view: ViewCache::default(),
            read_plans: ReadPlans::default(),
            state,
            check,
            writer,
            limits,
            counters: RequestCounters::default(),
            kafka,
            redis,
            phase: AtomicU8::new(Phase::Bootstrapping as u8),
            boot_done: AtomicU64::new(0),
            boot_total: AtomicU64::new(0),
            routing: std::sync::OnceLock::new(),
            more_metrics: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// `/metrics` also shows what `source` renders.
    pub fn add_metrics(&self, source: Arc<dyn crate::metrics::MetricsSource>) {
        self.more_metrics
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(source);
    }

    /// What the sources added by `add_metrics` render, in the order they were added.
    pub fn more_metrics(&self) -> String {
        let sources = self.more_metrics.lock().unwrap_or_else(|p| p.into_inner());
        sources.iter().map(|s| s.render()).collect()
    }

    /// Group mode: reads are answered by the owners of their keys' partitions
    /// (`route`), and pushes are refused. Set once; a second call is ignored.
    pub fn set_routing(&self, routing: Arc<dyn super::route::Routing>) {
        let _ = self.routing.set(routing);
    }

    pub fn routing(&self) -> Option<&Arc<dyn super::route::Routing>> {
        self.routing.get()
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
}
