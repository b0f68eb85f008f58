//! Starting and stopping a server: open (or recover) the state directory, bind the
//! listener, load history if asked (`bootstrap_*`, answering 503 meanwhile), serve
//! until SIGTERM or SIGINT, then drain in-flight requests, checkpoint and return.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::stream::{Options, StreamGraph, StreamRuntime};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::catalog::Catalog;
use crate::config::ServeConfig;
use crate::durable::{DurableError, Identity, StateDir};
use crate::kafka::{Consuming, KafkaConfig, KafkaState};
use crate::online::{Idempotency, Online, Phase, PushOutcome};
use crate::redis::{RedisTarget, Sinking};
use crate::replicas::Replicas;
use crate::writer::{self, Writer};

/// Why a server could not start or stop cleanly.
#[derive(Debug, Clone, PartialEq)]
pub enum ServeError {
    /// A flag combination that is refused (e.g. a public address without tokens).
    Config(String),
    Graph(String),
    State(DurableError),
    Listen {
        addr: SocketAddr,
        message: String,
    },
    Bootstrap(String),
    Shutdown(String),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Config(m) | ServeError::Graph(m) => write!(f, "{m}"),
            ServeError::State(e) => write!(f, "{e}"),
            ServeError::Listen { addr, message } => write!(f, "cannot listen on {addr}: {message}"),
            ServeError::Bootstrap(m) => write!(f, "bootstrap failed: {m}"),
            ServeError::Shutdown(m) => write!(f, "shutdown failed: {m}"),
        }
    }
}

/// A running server.
pub struct Server {
    /// The address it listens on (the port is real even for `:0`).
    pub addr: SocketAddr,
    online: Arc<Online>,
    /// What was recovered from the state directory, for the startup message.
    pub recovered: String,
    /// Whether the state already holds the sources' history.
    pub bootstrapped: bool,
    /// The graph and options the state was built for (to copy or empty a copy).
    graph: StreamGraph,
    options: Options,
    /// Where the recovered state had read its topics up to.
    kafka_start: BTreeMap<(String, i32), i64>,
    consuming: std::sync::Mutex<Option<Consuming>>,
    sinking: std::sync::Mutex<Option<Sinking>>,
    stop: watch::Sender<bool>,
    http: tokio::task::JoinHandle<Result<(), std::io::Error>>,
    writer: Option<std::thread::JoinHandle<()>>,
    /// The served log's writer (`--log-served`), finished on shutdown.
    served_log: Option<crate::durable::served_log::ServedLog>,
}

fn runtime_options(config: &ServeConfig) -> Options {
    Options {
        late_policy: config.late_policy,
        min_lateness_us: config.min_lateness_us,
        fold_run: config.fold_run,
    }
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
        let options = runtime_options(&config);
        let checker = StreamRuntime::with_options(graph.clone(), options.clone())
            .map_err(|e| ServeError::Graph(e.to_string()))?;
        let catalog = Catalog::new(&graph);
        let (state, copies, pushes, bootstrapped, kafka, recovered) = match &config.state {
            None => {
                let empty = || empty_runtime(&graph, &options);
                (
                    None,
                    copies(&config, &graph, &options, empty)?,
                    Idempotency::default(),
                    false,
                    KafkaState::default(),
                    "state: in memory only (no --state): a restart starts empty".to_string(),
                )
            }
            Some(dir) => {
                let identity = Identity::of(&graph).map_err(ServeError::Graph)?;
                let (state, found) = StateDir::open(dir, &identity).map_err(ServeError::State)?;
                let mut pushes = Idempotency::default();
                // Both copies of the state load the checkpoint and re-apply the log.
                let (state_copies, bootstrapped, kafka, from) = match found.checkpoint {
                    Some((header, snapshot)) => {
                        let restore = || {
                            crate::durable::snapshot::restore(
                                graph.clone(),
                                options.clone(),
                                &snapshot,
                            )
                            .map_err(|e| {
                                ServeError::State(DurableError::Corrupt(format!(
                                    "the checkpoint in `{}` cannot be loaded: {e}",
                                    dir.display()
                                )))
                            })
                        };
                        for (k, accepted, late) in header.pushes {
                            pushes.insert(k, accepted, late);
                        }
                        (
                            copies(&config, &graph, &options, restore)?,
                            header.bootstrapped,
                            header.kafka,
                            format!("checkpoint of record {}", header.upto),
                        )
                    }
                    None => {
                        let empty = || empty_runtime(&graph, &options);
                        (
                            copies(&config, &graph, &options, empty)?,
                            false,
                            KafkaState::default(),
                            "an empty state".to_string(),
                        )
                    }
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
                let mut skipped = 0;
                let replayed = found.records.len();
                for (seq, record) in found.records {
                    let applied = state_copies
                        .write(|rt| PushOutcome::apply(rt, &record.source, &record.batch));
                    match applied {
                        Ok(o) => {
                            if let Some(k) = record.key {
                                pushes.insert(k, o.accepted, o.late);
                            }
                        }
                        Err(e) => {
                            skipped += 1;
                            eprintln!("featc serve: log record {seq} could not be applied again and is skipped: {e}");
                        }
                    }
                }
                let note = format!(
                    "state: {} (loaded {from}, re-applied {replayed} logged pushes{})",
                    dir.display(),
                    if skipped > 0 {
                        format!(", {skipped} skipped")
                    } else {
                        String::new()
                    }
                );
                (Some(state), state_copies, pushes, bootstrapped, kafka, note)
            }
        };
        let (handle, inbox) = writer::channel();
        let online = Arc::new(Online::new(
            copies,
            checker,
            catalog,
            config.clone(),
            handle,
        ));
        let served_log = match &config.log_served {
            Some(dir) => Some(
                crate::durable::served_log::ServedLog::start(
                    &online,
                    dir,
                    config.log_served_rotate,
                )
                .map_err(ServeError::Config)?,
            ),
            None => None,
        };
        let kafka_start = kafka.positions();
        let writer = Writer::new(Arc::clone(&online), state, pushes, bootstrapped, kafka)
            .spawn(inbox)
            .map_err(|e| ServeError::Config(format!("cannot start the writer thread: {e}")))?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| ServeError::Listen {
                addr: config.listen,
                message: e.to_string(),
            })?;
        let addr = listener.local_addr().map_err(|e| ServeError::Listen {
            addr: config.listen,
            message: e.to_string(),
        })?;
        let (stop, mut stopped) = watch::channel(false);
        let app = crate::api::router(Arc::clone(&online));
        let http = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        });
        Ok(Server {
            addr,
            online,
            recovered,
            bootstrapped,
            graph,
            options,
            kafka_start,
            consuming: std::sync::Mutex::new(None),
            sinking: std::sync::Mutex::new(None),
            stop,
            http,
            writer: Some(writer),
            served_log,
        })
    }

    /// The shared state (for tests and embedders).
    pub fn online(&self) -> &Arc<Online> {
        &self.online
    }

    /// Says how many history events the bootstrap will load (for `/health`).
    pub fn bootstrap_total(&self, events: u64) {
        self.online.boot_total.store(events, Relaxed);
    }

    /// Loads a batch of a source's history (only before `finish_bootstrap`).
    pub fn bootstrap_batch(&self, source: &str, batch: &RecordBatch) -> Result<(), ServeError> {
        if self.online.phase() != Phase::Bootstrapping {
            return Err(ServeError::Bootstrap(
                "the server is already serving".into(),
            ));
        }
        let state = &self.online.state;
        if state.is_mirrored() {
            // History goes into one copy (loading it twice would double the wait);
            // `finish_bootstrap` copies it into the second.
            state.unmirror(self.empty_runtime()?);
        }
        state
            .write(|rt| rt.ingest(source, batch))
            .map_err(|e| ServeError::Bootstrap(e.to_string()))?;
        self.online
            .boot_done
            .fetch_add(batch.num_rows() as u64, Relaxed);
        Ok(())
    }

    /// Ends the bootstrap: checkpoints the loaded history (with `--state`) and starts
    /// answering.
    pub async fn finish_bootstrap(&self) -> Result<(), ServeError> {
        let state = &self.online.state;
        state.write(|rt| rt.compact());
        // One snapshot makes both the second copy and the checkpoint (pushes are
        // refused until `ready`, so nothing changes the state meanwhile).
        let snapshot = state
            .spare(crate::durable::snapshot::take)
            .map_err(ServeError::Bootstrap)?;
        self.mirror_from(&snapshot)?;
        self.online
            .writer
            .bootstrapped(snapshot)
            .await
            .map_err(ServeError::Bootstrap)?;
        self.ready()
    }

    /// Starts answering (without a bootstrap, or when the state already had it),
    /// after making the second copy of the state if a bootstrap loaded only one.
    pub fn ready(&self) -> Result<(), ServeError> {
        if self.mirror_wanted() && !self.online.state.is_mirrored() {
            let snapshot = self
                .online
                .state
                .spare(crate::durable::snapshot::take)
                .map_err(ServeError::Bootstrap)?;
            self.mirror_from(&snapshot)?;
        }
        self.online.set_phase(Phase::Ready);
        Ok(())
    }

    fn mirror_wanted(&self) -> bool {
        !self.online.config.single_copy
    }

    /// Makes the second copy of the state from `snapshot` (unless `single_copy`).
    fn mirror_from(&self, snapshot: &[u8]) -> Result<(), ServeError> {
        if !self.mirror_wanted() {
            return Ok(());
        }
        let (graph, options) = (&self.graph, &self.options);
        self.online
            .state
            .mirror(|_| crate::durable::snapshot::restore(graph.clone(), options.clone(), snapshot))
            .map_err(ServeError::Bootstrap)
    }

    fn empty_runtime(&self) -> Result<StreamRuntime, ServeError> {
        empty_runtime(&self.graph, &self.options)
    }

    /// Starts consuming `config`'s topics into the state, from where the state had
    /// read them up to (call once the server is ready).
    pub fn consume(&self, config: KafkaConfig) -> Result<(), ServeError> {
        let consuming =
            Consuming::start(Arc::clone(&self.online), config, self.kafka_start.clone())
                .map_err(|e| ServeError::Config(format!("cannot start the Kafka consumer: {e}")))?;
        let mut slot = self.consuming.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = slot.replace(consuming) {
            old.stop();
        }
        Ok(())
    }

    /// Keeps the Redis online store at `target` equal to the state (call once, after
    /// `ready`): every known entity is written now, then each again whenever its
    /// values change (docs/online-store.md).
    pub fn sink(&self, target: RedisTarget) -> Result<(), ServeError> {
        let mut slot = self.sinking.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() || self.online.sink.get().is_some() {
            return Err(ServeError::Config(
                "the server already has a Redis sink".into(),
            ));
        }
        let sinking = Sinking::start(Arc::clone(&self.online), &self.graph, target)
            .map_err(|e| ServeError::Config(format!("--sink: {e}")))?;
        let _ = self.online.sink.set(sinking.handle());
        *slot = Some(sinking);
        Ok(())
    }

    /// Stops the server: no new requests, in-flight ones finish, then a checkpoint.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        self.online.set_phase(Phase::ShuttingDown);
        let consuming = self
            .consuming
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(c) = consuming {
            let _ = tokio::task::spawn_blocking(move || c.stop()).await;
        }
        let _ = self.stop.send(true);
        let served = (&mut self.http).await;
        // No read is in flight any more: the log's last rows are written and its
        // file completed.
        self.online.served.detach();
        if let Some(log) = self.served_log.take() {
            let _ = tokio::task::spawn_blocking(move || log.finish()).await;
        }
        let stopped = self.online.writer.stop().await;
        if let Some(w) = self.writer.take() {
            let _ = tokio::task::spawn_blocking(move || w.join()).await;
        }
        // After the writer: the store ends equal to the final state.
        let sinking = self
            .sinking
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(s) = sinking {
            let _ = tokio::task::spawn_blocking(move || s.stop()).await;
        }
        match served {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(ServeError::Shutdown(e.to_string())),
            Err(e) => return Err(ServeError::Shutdown(e.to_string())),
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

fn empty_runtime(graph: &StreamGraph, options: &Options) -> Result<StreamRuntime, ServeError> {
    StreamRuntime::with_options(graph.clone(), options.clone())
        .map_err(|e| ServeError::Graph(e.to_string()))
}

/// The state's two copies, each made by `make` (on two threads at once), or with
/// `single_copy` one copy and an empty placeholder.
fn copies(
    config: &ServeConfig,
    graph: &StreamGraph,
    options: &Options,
    make: impl Fn() -> Result<StreamRuntime, ServeError> + Sync,
) -> Result<Replicas<StreamRuntime>, ServeError> {
    if config.single_copy {
        return Ok(Replicas::single(make()?, empty_runtime(graph, options)?));
    }
    let (first, second) = std::thread::scope(|s| {
        let second = s.spawn(&make);
        (make(), second.join())
    });
    let second = second.map_err(|_| {
        ServeError::Graph("the thread loading the state's second copy failed".into())
    })??;
    Ok(Replicas::mirrored(first?, second))
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
