//! Starting and stopping a server: open (or recover) the state directory, bind the
//! listener (and the health listener, with `--health-listen`), load history if asked
//! (`bootstrap_*`, answering 503 meanwhile), serve until SIGTERM or SIGINT, then
//! drain in-flight requests, checkpoint and return.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::stream::{StreamError, StreamGraph};
use tokio::sync::watch;

use crate::api::health_listener::HealthListener;
use crate::api::{App, Limits, Phase};
use crate::config::ServeConfig;
use crate::durable::DurableError;
use crate::kafka::{Consuming, KafkaConfig, KafkaProgress};
use crate::redis::{RedisError, RedisTarget, SinkCounters, Sinking};
use crate::served::log::{Rotation, ServedLog, ServedLogError};
use crate::state::{self, OnlineState, PushCheck, Recovered, Replay, StateError};
use crate::writer::Writer;

/// Why a server could not start or stop cleanly.
#[derive(Debug, Clone, PartialEq)]
pub enum ServeError {
    /// A flag combination that is refused (e.g. a public address without tokens).
    Config(String),
    /// The runtime refused the graph.
    Graph(StreamError),
    /// The state could not be opened.
    State(StateError),
    /// `--log-served` could not start.
    ServedLog(ServedLogError),
    /// `--sink` could not start.
    Sink(RedisError),
    /// A thread of the server could not be started (which, the system's reason).
    Thread {
        what: &'static str,
        message: String,
    },
    Listen {
        addr: SocketAddr,
        message: String,
    },
    /// Loading history failed.
    Bootstrap(StateError),
    /// History was offered after the server started answering.
    AlreadyServing,
    /// The HTTP server failed while stopping (its reason).
    Http(String),
    /// The final checkpoint failed.
    Shutdown(StateError),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Config(m) => write!(f, "{m}"),
            ServeError::Graph(e) => write!(f, "{e}"),
            ServeError::State(e) => write!(f, "{e}"),
            ServeError::ServedLog(e) => write!(f, "{e}"),
            ServeError::Sink(e) => write!(f, "--sink: {e}"),
            ServeError::Thread { what, message } => {
                write!(f, "cannot start the {what} thread: {message}")
            }
            ServeError::Listen { addr, message } => write!(f, "cannot listen on {addr}: {message}"),
            ServeError::Bootstrap(e) => write!(f, "bootstrap failed: {e}"),
            ServeError::AlreadyServing => {
                write!(f, "bootstrap failed: the server is already serving")
            }
            ServeError::Http(m) => write!(f, "shutdown failed: {m}"),
            ServeError::Shutdown(e) => write!(f, "shutdown failed: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// A running server.
pub struct Server {
    /// The address it listens on (the port is real even for `:0`).
    pub addr: SocketAddr,
    /// The health listener's address (`--health-listen`), its port real as well.
    pub health_addr: Option<SocketAddr>,
    app: Arc<App>,
    /// What was recovered from the state directory, for the startup message.
    pub recovered: String,
    /// Whether the state already holds the sources' history.
    pub bootstrapped: bool,
    consuming: std::sync::Mutex<Option<Consuming>>,
    /// Group mode's membership (`join_group`).
    member: std::sync::Mutex<Option<crate::group::Member>>,
    sinking: std::sync::Mutex<Option<Sinking>>,
    stop: watch::Sender<bool>,
    http: tokio::task::JoinHandle<Result<(), std::io::Error>>,
    health: Option<HealthListener>,
    writer: Option<std::thread::JoinHandle<()>>,
    /// The served log's writer (`--log-served`), finished on shutdown.
    served_log: Option<ServedLog>,
}

/// Starts `graph` under `config` (see `Server`). The server answers 503 until
/// `ready` (or `finish_bootstrap`) is called.
pub async fn serve(graph: StreamGraph, config: ServeConfig) -> Result<Server, ServeError> {
    Server::start(graph, config).await
}

impl Server {
    pub async fn start(graph: StreamGraph, config: ServeConfig) -> Result<Server, ServeError> {
        let tokens = config.read_token.is_some() && config.push_token.is_some();
        if !config.listen.ip().is_loopback() && !tokens && !config.insecure {
            return Err(ServeError::Config(format!(
                "refusing to listen on {} (not loopback) without --read-token-file and \
                 --push-token-file; give both, or --insecure to serve it open",
                config.listen
            )));
        }
        if let Some(health) = config.health_listen {
            // Its `/metrics` is behind the read token alone.
            if !health.ip().is_loopback() && config.read_token.is_none() && !config.insecure {
                return Err(ServeError::Config(format!(
                    "refusing --health-listen on {health} (not loopback) without \
                     --read-token-file (its /metrics would be open); give it, or --insecure"
                )));
            }
        }
        let (state, mut ledger, found) = state::open(
            graph,
            config.state_config(),
            config.state.as_deref(),
            Replay::SERVER,
        )
        .map_err(|e| match e {
            // The graph is refused before the state directory is touched.
            StateError::Runtime(e) => ServeError::Graph(e),
            other => ServeError::State(other),
        })?;
        let check = PushCheck::new(
            state.graph(),
            config.runtime_options(),
            Arc::clone(state.names()),
            config.max_future_us,
        )
        .map(Arc::new)
        .map_err(ServeError::Graph)?;
        let recovered = startup_note(&found);
        let state = Arc::new(state);
        // The Kafka source's progress is restored whether or not it consumes this
        // time: its counters and dead records are the state's, and the next
        // checkpoint saves them again.
        let kafka = KafkaProgress::from_saved(ledger.saved_position(crate::kafka::KIND))
            .map(Arc::new)
            .map_err(|e| {
                ServeError::State(StateError::Durable(DurableError::Corrupt(format!(
                    "the checkpoint's Kafka positions: {e}"
                ))))
            })?;
        ledger.register(
            crate::kafka::KIND,
            Arc::clone(&kafka) as Arc<dyn state::Position>,
        );
        let served_log = match &config.log_served {
            Some(dir) => Some(
                ServedLog::start(
                    state.served(),
                    state.clock(),
                    dir,
                    Rotation {
                        bytes: config.log_served_rotate,
                        age: config.log_served_max_age,
                    },
                    &config.log_served_metadata,
                )
                .map_err(ServeError::ServedLog)?,
            ),
            None => None,
        };
        let (writer, writer_thread) =
            Writer::spawn(Arc::clone(&state), ledger).map_err(|e| ServeError::Thread {
                what: "writer",
                message: e.to_string(),
            })?;
        let app = Arc::new(App::new(
            state,
            check,
            writer,
            Limits::of(&config),
            kafka,
            Arc::new(SinkCounters::default()),
        ));
        let listen = |addr: SocketAddr| {
            crate::api::connections::bind(addr, config.listen_backlog).map_err(|e| {
                ServeError::Listen {
                    addr,
                    message: e.to_string(),
                }
            })
        };
        let listener = listen(config.listen)?;
        let addr = listener.local_addr().map_err(|e| ServeError::Listen {
            addr: config.listen,
            message: e.to_string(),
        })?;
        let health = match config.health_listen {
            Some(health_addr) => Some(
                HealthListener::start(listen(health_addr)?, Arc::clone(&app))
                    .await
                    .map_err(|e| ServeError::Thread {
                        what: "health listener",
                        message: e.to_string(),
                    })?,
            ),
            None => None,
        };
        let (stop, stopped) = watch::channel(false);
        let http = tokio::spawn(crate::api::connections::serve(
            listener,
            Arc::clone(&app),
            stopped,
        ));
        Ok(Server {
            addr,
            health_addr: health.as_ref().map(|h| h.addr),
            app,
            recovered,
            bootstrapped: found.bootstrapped,
            consuming: std::sync::Mutex::new(None),
            member: std::sync::Mutex::new(None),
            sinking: std::sync::Mutex::new(None),
            stop,
            http,
            health,
            writer: Some(writer_thread),
            served_log,
        })
    }

    /// `/metrics` also shows what `source` renders.
    pub fn add_metrics(&self, source: Arc<dyn crate::metrics::MetricsSource>) {
        self.app.add_metrics(source);
    }

    /// The state (read side), for tests and embedders.
    pub fn state(&self) -> &Arc<OnlineState> {
        &self.app.state
    }

    /// What the routes share (for tests that drive a route's parsing directly).
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Says how many history events the bootstrap will load (for `/health`).
    pub fn bootstrap_total(&self, events: u64) {
        self.app.boot_total.store(events, Relaxed);
    }

    /// Loads a batch of a source's history (only before `finish_bootstrap`).
    pub fn bootstrap_batch(&self, source: &str, batch: &RecordBatch) -> Result<(), ServeError> {
        if self.app.phase() != Phase::Bootstrapping {
            return Err(ServeError::AlreadyServing);
        }
        self.app
            .state
            .load_history(source, batch)
            .map_err(ServeError::Bootstrap)?;
        self.app
            .boot_done
            .fetch_add(batch.num_rows() as u64, Relaxed);
        Ok(())
    }

    /// Ends the bootstrap: checkpoints the loaded history (with `--state`) and starts
    /// answering.
    pub async fn finish_bootstrap(&self) -> Result<(), ServeError> {
        // One snapshot makes both the second copy and the checkpoint (pushes are
        // refused until `ready`, so nothing changes the state meanwhile).
        let snapshot = self
            .app
            .state
            .finish_history()
            .map_err(ServeError::Bootstrap)?;
        self.app
            .writer
            .bootstrapped(snapshot)
            .await
            .map_err(ServeError::Bootstrap)?;
        self.ready()
    }

    /// Starts answering (without a bootstrap, or when the state already had it).
    pub fn ready(&self) -> Result<(), ServeError> {
        self.app.set_phase(Phase::Ready);
        Ok(())
    }

    /// Starts consuming `config`'s topics into the state, from where the state had
    /// read them up to (call once the server is ready).
    pub fn consume(&self, config: KafkaConfig) -> Result<(), ServeError> {
        let consuming = Consuming::start(
            self.app.writer.clone(),
            Arc::clone(&self.app.check),
            Arc::clone(&self.app.kafka),
            config,
        )
        .map_err(|e| ServeError::Config(format!("cannot start the Kafka consumer: {e}")))?;
        let mut slot = self.consuming.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = slot.replace(consuming) {
            old.stop();
        }
        Ok(())
    }

    /// Group mode (`group`): creates the entities' internal topics, joins the
    /// consumer group, forwards the sources' records and runs the tasks Kafka
    /// assigns here; reads are routed to the owners of their keys and pushes refused.
    /// Call once, when ready, instead of `consume`.
    pub fn join_group(&self, spec: crate::group::GroupSpec) -> Result<(), ServeError> {
        use crate::group::forward::{Forwarder, Route, SourceRoutes};
        let group_error = |e: crate::group::GroupError| ServeError::Config(e.to_string());
        // The forwarder routes a record by its key read as JSON: Avro and Protobuf
        // records are refused here rather than routed wrongly.
        if let Some(b) = spec
            .kafka
            .topics
            .iter()
            .find(|b| b.format != featc_runtime::ir::TopicFormat::Json)
        {
            return Err(ServeError::Config(format!(
                "--kafka-group reads JSON records only, and source `{}`'s topic `{}` is {}: \
                 serve it without --kafka-group",
                b.source,
                b.topic,
                b.format.name()
            )));
        }
        let topics: Vec<String> = spec.entities.iter().map(|e| e.task.topic.clone()).collect();
        crate::group::topics::ensure(&spec.kafka.brokers, &topics, spec.partitions)
            .map_err(group_error)?;
        let names = self.app.state.names();
        let mut by_topic = std::collections::HashMap::new();
        for binding in &spec.kafka.topics {
            let Ok(source) = names.source(&binding.source) else {
                continue;
            };
            let routes: Vec<Route> = spec
                .entities
                .iter()
                .filter_map(|e| {
                    let (_, columns) = e.routes.iter().find(|(s, _)| *s == binding.source)?;
                    let typed = columns
                        .iter()
                        .map(|c| {
                            let ty = source
                                .columns
                                .iter()
                                .find(|(n, _, _)| n == c)
                                .map_or(featc_runtime::ir::DataType::String, |(_, t, _)| *t);
                            (c.clone(), ty)
                        })
                        .collect();
                    Some(Route {
                        topic: e.task.topic.clone(),
                        columns: typed,
                    })
                })
                .collect();
            if routes.is_empty() {
                continue;
            }
            by_topic.insert(
                binding.topic.clone(),
                SourceRoutes {
                    source: binding.source.clone(),
                    epoch: source.epoch,
                    routes,
                },
            );
        }
        let forwarder =
            Forwarder::new(&spec.kafka.brokers, by_topic, spec.partitions).map_err(group_error)?;
        let member_id = format!("{}-{}", std::process::id(), crate::wire::time::now_us());
        let group = Arc::new(crate::group::Group::new(spec, member_id));
        group.registry.publish(&[]).map_err(group_error)?;
        let member =
            crate::group::Member::start(Arc::clone(&group), forwarder).map_err(group_error)?;
        self.app.set_routing(group);
        *self.member.lock().unwrap_or_else(|p| p.into_inner()) = Some(member);
        Ok(())
    }

    /// Keeps the Redis online store at `target` equal to the state (call once, after
    /// `ready`): every known entity is written now, then each again whenever its
    /// values change (docs/online-store.md).
    pub fn sink(&self, target: RedisTarget) -> Result<(), ServeError> {
        let mut slot = self.sinking.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return Err(ServeError::Config(
                "the server already has a Redis sink".into(),
            ));
        }
        let sinking = Sinking::start(
            Arc::clone(&self.app.state),
            target,
            Arc::clone(&self.app.redis),
        )
        .map_err(ServeError::Sink)?;
        self.app
            .writer
            .watch(Box::new(sinking.handle()))
            .map_err(ServeError::State)?;
        sinking.begin();
        *slot = Some(sinking);
        Ok(())
    }

    /// Stops the server: no new requests, in-flight ones finish, then a checkpoint.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        self.app.set_phase(Phase::ShuttingDown);
        let consuming = crate::slot::take(&self.consuming);
        if let Some(c) = consuming {
            let _ = tokio::task::spawn_blocking(move || c.stop()).await;
        }
        // Leaving the group closes every task and copies its checkpoint to the store
        // before its partition moves on.
        let member = crate::slot::take(&self.member);
        if let Some(m) = member {
            let _ = tokio::task::spawn_blocking(move || m.stop()).await;
        }
        let _ = self.stop.send(true);
        let served = (&mut self.http).await;
        // No read is in flight any more: the log's last rows are written and its
        // file completed.
        self.app.state.served().detach();
        if let Some(log) = self.served_log.take() {
            let _ = tokio::task::spawn_blocking(move || log.finish()).await;
        }
        let stopped = self.app.writer.stop().await;
        if let Some(w) = self.writer.take() {
            let _ = tokio::task::spawn_blocking(move || w.join()).await;
        }
        // After the writer: the store ends equal to the final state.
        let sinking = crate::slot::take(&self.sinking);
        if let Some(s) = sinking {
            let _ = tokio::task::spawn_blocking(move || s.stop()).await;
        }
        // Last: `/health` said `shutting_down` there until now.
        if let Some(health) = self.health.take() {
            health.stop().await;
        }
        match served {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(ServeError::Http(e.to_string())),
            Err(e) => return Err(ServeError::Http(e.to_string())),
        }
        stopped.map_err(ServeError::Shutdown)
    }

    /// Serves until SIGTERM or SIGINT, then `shutdown`.
    pub async fn run_until_signal(self) -> Result<(), ServeError> {
        self.run_until(ShutdownSignal::install()).await
    }

    /// Serves until `signal`, then `shutdown`.
    pub async fn run_until(self, signal: ShutdownSignal) -> Result<(), ServeError> {
        signal.wait().await;
        self.shutdown().await
    }
}

/// What was recovered, for the startup message; what went wrong on the way (an
/// unfinished checkpoint, a torn last write, records that no longer apply) is said
/// on stderr now, in that order.
fn startup_note(found: &Recovered) -> String {
    let Some(dir) = &found.dir else {
        return "state: in memory only (no --state): a restart starts empty".to_string();
    };
    if found.unfinished_checkpoint {
        eprintln!(
            "featc serve: a checkpoint in `{}` was being written when the server stopped; it was discarded (the one before it is loaded)",
            dir.display()
        );
    }
    if found.dropped_tail_bytes > 0 {
        eprintln!(
            "featc serve: the log in `{}` ended in a torn write ({} bytes of a push that was never acknowledged); it was dropped",
            dir.display(),
            found.dropped_tail_bytes
        );
    }
    for (seq, e) in &found.skipped {
        eprintln!("featc serve: log record {seq} could not be applied again and is skipped: {e}");
    }
    let from = match found.checkpoint {
        Some(upto) => format!("checkpoint of record {upto}"),
        None => "an empty state".to_string(),
    };
    format!(
        "state: {} (loaded {from}, re-applied {} logged pushes{})",
        dir.display(),
        found.replayed,
        if found.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", found.skipped.len())
        }
    )
}

/// SIGTERM and SIGINT, listened for from `install` on: a caller that says it is
/// ready only after installing it cannot be killed by a SIGTERM sent right after.
pub struct ShutdownSignal {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignal {
    /// Installs the handlers now (inside a tokio runtime).
    pub fn install() -> ShutdownSignal {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            ShutdownSignal {
                term: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        ShutdownSignal {}
    }

    /// Waits for either signal.
    pub async fn wait(self) {
        #[cfg(unix)]
        if let (Some(mut term), Some(mut interrupt)) = (self.term, self.interrupt) {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
