//! `featc serve`: the project's features over HTTP (Feast's read and push layouts),
//! from the streaming runtime, with durable online state (`featc-server`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use super::replay::Late;
use super::server_defaults;

// What runs the server: only in a featc built with `serve` (Cargo.toml).
#[cfg(feature = "serve")]
use {
    super::history::{load_history, History, HistorySink},
    super::online_audit::{AuditCounters, OnlineAudit, Settings as AuditSettings},
    super::progress::Progress,
    super::replay::parse_duration,
    super::spine_job::{block_on_with_own_signals, source_bindings},
    datafusion::arrow::record_batch::RecordBatch,
    featc::ir::Project,
    featc_runtime::stream::LatePolicy,
    featc_server::kafka::{KafkaConfig, TopicBinding},
    featc_server::redis::RedisTarget,
    featc_server::{Clock, ServeConfig, Server},
    std::path::Path,
};

/// What "now" is for a read without `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ClockArg {
    /// The wall clock.
    Wall,
    /// The latest event time ingested (replays and demos on historical data).
    Events,
}

/// Serve the project's features over HTTP, fed by pushes (and history with
/// --bootstrap).
///
/// Reads: `POST /get-online-features`; writes: `POST /push` (Feast's layouts); `GET
/// /health`, `GET /metrics`. Prints `listening on http://HOST:PORT` as its first line
/// on stdout once it accepts requests. Stops on SIGTERM or SIGINT (in-flight requests
/// finish, then a checkpoint). See docs/serving.md.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  featc serve examples/fraud --bootstrap --clock events\n  featc serve examples/fraud --state /var/lib/featc/fraud --listen 127.0.0.1:6566"
)]
pub struct Args {
    /// `.feat` files, or folders searched recursively for `*.feat` files.
    #[arg(value_name = "PROJECT", required = true)]
    pub projects: Vec<PathBuf>,
    /// The address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, value_name = "ADDR", default_value = server_defaults::LISTEN)]
    pub listen: SocketAddr,
    /// Keep the online state durable in DIR (write-ahead log and checkpoints);
    /// without it the state is in memory and lost on exit.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Read source NAME's history from PATH instead of its declared file (with
    /// --bootstrap; repeatable).
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<String>,
    /// Load every source's history before answering (reads get 503 meanwhile).
    #[arg(long)]
    pub bootstrap: bool,
    /// The read time of a request without `at`.
    #[arg(long, value_enum, default_value = "wall")]
    pub clock: ClockArg,
    /// Reads must carry `Authorization: Bearer <the token in FILE>`.
    #[arg(long, value_name = "FILE")]
    pub read_token_file: Option<PathBuf>,
    /// Pushes must carry `Authorization: Bearer <the token in FILE>`.
    #[arg(long, value_name = "FILE")]
    pub push_token_file: Option<PathBuf>,
    /// Allow a non-loopback --listen without both token files.
    #[arg(long)]
    pub insecure: bool,
    /// A floor on every source's allowed lateness (e.g. `0`, `30s`, `1h`).
    #[arg(long, value_name = "DURATION", default_value = "0")]
    pub min_lateness: String,
    /// Policy for events later than the allowed lateness.
    #[arg(long, value_enum, default_value = "apply")]
    pub late: Late,
    /// An event whose time is more than this ahead of the wall clock is refused (a
    /// push: 422 `future_event`; a Kafka record: dead-lettered), so it cannot move a
    /// watermark to the end of time.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub max_future: String,
    /// The most events that may wait for their as-of lookups' sources at once (see
    /// docs/semantics.md, "As-of lookups online"); a push that would pass it is
    /// refused whole with a 429 `held_rows_full`.
    #[arg(long, value_name = "N", default_value_t = featc_runtime::stream::DEFAULT_MAX_HELD_ROWS, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_held_rows: u64,
    /// The most the dead-letter store keeps (every event kept out of the state: late,
    /// future, invalid Kafka records), e.g. 64MiB; past it the oldest letters are
    /// dropped (counted). `GET /dead-letters` lists them.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = featc_runtime::batch::resources::parse_size)]
    pub dead_letter_bytes: usize,
    /// How long a dead letter is kept: the first checkpoint after that drops it.
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub dead_letter_retention: String,
    /// The largest request body, in bytes (an Arrow body's buffers may also decode
    /// to at most this many bytes).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_body: usize,
    /// Connections served at once; past it a small reserve answers `/health` and a
    /// 503 `too_many_connections`, and further connections are closed on accept.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Requests handled at once (`/health` aside); past it a 503
    /// `too_many_requests`, before the token is checked or the body read.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_in_flight: u32,
    /// Pushes taken but not yet answered (waiting for the writer); past it a 429
    /// `push_queue_full`.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_queued_pushes: u32,
    /// A connection must send a request's complete headers within this long of
    /// opening or of its previous answer, or it is closed (slow and idle clients).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub header_timeout: String,
    /// A connection on which no byte moves either way for this long is closed
    /// (stalled bodies, answers nobody reads).
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub idle_timeout: String,
    /// Connections the listening socket's accept queue holds while the server is
    /// busy accepting (the kernel caps it at net.core.somaxconn); past it a connect
    /// is retried by the client a second later.
    #[arg(long, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub listen_backlog: u32,
    /// Also answer `GET /health` (and `GET /metrics`, with the read token) on ADDR,
    /// served apart from --listen's connections: point liveness probes there, so a
    /// connection flood on the data port cannot delay them. Its own bounds: 16
    /// connections, one request each within 1 s.
    #[arg(long, value_name = "ADDR")]
    pub health_listen: Option<SocketAddr>,
    /// With --state: how long the archive of acknowledged events (STATE/archive, what
    /// `featc audit --state` recomputes reads from) keeps a file, e.g. `30d`; `off`:
    /// no archive.
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub archive_retention: String,
    /// Checkpoint after this many pushed events...
    #[arg(long, value_name = "N", default_value_t = 5_000_000)]
    pub checkpoint_events: u64,
    /// ... or this long after the last checkpoint (e.g. `5m`).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub checkpoint_interval: String,
    /// Consume every source's declared `topic` from these Kafka brokers
    /// (`host:port[,host:port...]`), exactly once into the state.
    #[arg(long, value_name = "BROKERS")]
    pub kafka: Option<String>,
    /// The consumer group Kafka offsets are committed under (for monitoring; the state
    /// keeps its own positions).
    #[arg(long, value_name = "GROUP", default_value = "featc-serve")]
    pub kafka_group: String,
    /// Where to start a partition the state has never read: its beginning (every
    /// record the topic holds) or its end (new records only, e.g. after --bootstrap).
    #[arg(long, value_enum, default_value = "beginning")]
    pub kafka_start: KafkaStart,
    /// A partition silent this long stops holding its source's watermark back (until
    /// its next record), e.g. `10s`.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub kafka_idle: String,
    /// Group mode: share the work with every other `featc serve` of this project
    /// started with the same --kafka and --kafka-group, through Kafka's consumer
    /// group, each partition's state checkpointed to this store so that it can move:
    /// a directory all instances share (`/path` or `file:///path`), or
    /// `s3://bucket/prefix` (credentials and endpoint from AWS_* variables). See
    /// docs/scale-out.md.
    #[arg(long, value_name = "URL", requires = "kafka")]
    pub state_store: Option<String>,
    /// Group mode: into how many partitions each entity's keys are split (the
    /// internal topics' partition count: the most instances that can share an
    /// entity's work). Fixed for the life of a --kafka-group.
    #[arg(long, value_name = "N", default_value_t = 12, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub kafka_partitions: i32,
    /// Group mode: the address other instances reach this one's HTTP API at, for
    /// reads routed to the keys' owners [default: http://<--listen's address>].
    #[arg(long, value_name = "URL")]
    pub advertise: Option<String>,
    /// Keep the Redis at this address (`redis://HOST:PORT[/DB]`; a Redis Cluster: any
    /// node's address, or `redis://HOST:PORT,HOST:PORT...`) equal to the state:
    /// one hash per service and entity, rewritten when an entity's values change
    /// (events, window edges, ttls). See docs/online-store.md.
    #[arg(long, value_name = "URL")]
    pub sink: Option<String>,
    /// The prefix of every key the sink writes.
    #[arg(long, value_name = "PREFIX", default_value = server_defaults::REDIS_PREFIX)]
    pub redis_prefix: String,
    /// With --state: entity states live on disk in the state directory, and the
    /// decoded ones kept in memory count at most this much, e.g. 4GiB [default: a
    /// quarter of the machine's memory]. Values never depend on it.
    #[arg(long, value_name = "SIZE", value_parser = featc_runtime::batch::resources::parse_size)]
    pub memory_limit: Option<usize>,
    /// Accepted for old command lines; no effect: the state is held once, and reads
    /// never wait for a push being applied.
    #[arg(long, hide = true)]
    pub single_copy: bool,
    /// Append every answered vector of `/get-online-features` (read time, entity
    /// keys, each feature's value and status) to Parquet files in DIR, for `featc
    /// stats` and `featc drift` (docs/stats.md).
    #[arg(long, value_name = "DIR")]
    pub log_served: Option<PathBuf>,
    /// Start a new served-log file past this size, e.g. 64MiB or 1G.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = featc_runtime::batch::resources::parse_size)]
    pub log_served_rotate: usize,
    /// ... or once it has taken rows this long (e.g. `5m`), so that the reads of a
    /// quiet server reach a complete file (which `featc audit` reads) within it
    /// [default: 1h; with --audit-sample, --audit-interval].
    #[arg(long, value_name = "DURATION")]
    pub log_served_max_age: Option<String>,
    /// Audit about this fraction of the logged reads in the background (e.g.
    /// `0.001`): each completed served-log file is recomputed against the state
    /// directory once a checkpoint has archived what its reads saw, and the cells
    /// are counted on /metrics (`featc_audit_cells_total{result,cause}`); an
    /// unexplained cell is also reported on stderr. Needs --log-served and --state.
    #[arg(long, value_name = "FRACTION", requires_all = ["log_served", "state"], value_parser = fraction)]
    pub audit_sample: Option<f64>,
    /// How often the background audit looks for completed files.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub audit_interval: String,
    /// Print no progress.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KafkaStart {
    Beginning,
    End,
}

/// The `--kafka` consumer of `project`'s declared topics.
#[cfg(feature = "serve")]
fn kafka_config(project: &Project, args: &Args) -> Result<Option<KafkaConfig>, String> {
    let Some(brokers) = &args.kafka else {
        return Ok(None);
    };
    let topics: Vec<TopicBinding> = project
        .sources
        .iter()
        .filter_map(|s| {
            s.topic.as_ref().map(|t| TopicBinding {
                source: s.name.clone(),
                topic: t.name.clone(),
                format: t.format.clone(),
            })
        })
        .collect();
    if topics.is_empty() {
        return Err(
            "--kafka: no source declares a topic (add `topic \"NAME\"` to a source)".into(),
        );
    }
    let mut config = KafkaConfig::new(brokers, topics);
    config.group = args.kafka_group.clone();
    config.from_end = args.kafka_start == KafkaStart::End;
    let idle = parse_duration(&args.kafka_idle)?.max(1);
    config.idle_timeout = std::time::Duration::from_micros(u64::try_from(idle).unwrap_or(1));
    Ok(Some(config))
}

#[cfg(feature = "serve")]
pub fn main(args: Args) -> ExitCode {
    let (_, project) = match super::compile_project(&args.projects) {
        Ok(p) => p,
        Err(code) => return code,
    };
    block_on_with_own_signals(run(project, args))
}

#[cfg(not(feature = "serve"))]
pub fn main(_: Args) -> ExitCode {
    super::cargo_features::missing("serve", "featc serve")
}

#[cfg(feature = "serve")]
fn read_token(path: &Option<PathBuf>, flag: &str) -> Result<Option<String>, String> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{flag}: cannot read `{}`: {e}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("{flag}: `{}` is empty", path.display()));
    }
    Ok(Some(token.to_string()))
}

#[cfg(feature = "serve")]
fn config(args: &Args) -> Result<ServeConfig, String> {
    let mut config = ServeConfig::new(args.listen);
    config.state = args.state.clone();
    config.clock = match args.clock {
        ClockArg::Wall => Clock::Wall,
        ClockArg::Events => Clock::Events,
    };
    config.read_token = read_token(&args.read_token_file, "--read-token-file")?;
    config.push_token = read_token(&args.push_token_file, "--push-token-file")?;
    config.insecure = args.insecure;
    config.min_lateness_us = parse_duration(&args.min_lateness)?;
    config.max_future_us =
        parse_duration(&args.max_future).map_err(|e| format!("--max-future: {e}"))?;
    config.max_held_rows = args.max_held_rows;
    config.late_policy = match args.late {
        Late::Apply => LatePolicy::Apply,
        Late::DeadLetter => LatePolicy::DeadLetter,
    };
    config.dead_letters.max_bytes = args.dead_letter_bytes as u64;
    config.dead_letters.retention =
        timeout(&args.dead_letter_retention, "--dead-letter-retention")?;
    config.body_limit = args.max_body;
    config.max_connections = args.max_connections;
    config.max_in_flight = args.max_in_flight;
    config.max_queued_pushes = args.max_queued_pushes;
    config.header_timeout = timeout(&args.header_timeout, "--header-timeout")?;
    config.idle_timeout = timeout(&args.idle_timeout, "--idle-timeout")?;
    config.listen_backlog = args.listen_backlog;
    config.health_listen = args.health_listen;
    config.memory_limit = args.memory_limit.map(|m| m as u64);
    config.log_served = args.log_served.clone();
    config.log_served_rotate = args.log_served_rotate as u64;
    config.log_served_max_age = match (&args.log_served_max_age, args.audit_sample) {
        (Some(text), _) => timeout(text, "--log-served-max-age")?,
        (None, Some(_)) => timeout(&args.audit_interval, "--audit-interval")?,
        (None, None) => featc_server::config::DEFAULT_LOG_SERVED_MAX_AGE,
    };
    config.archive_retention = match args.archive_retention.as_str() {
        "off" => None,
        text => Some(timeout(text, "--archive-retention")?),
    };
    config.checkpoint_events = args.checkpoint_events.max(1);
    let interval = parse_duration(&args.checkpoint_interval)?;
    config.checkpoint_interval =
        std::time::Duration::from_micros(u64::try_from(interval.max(1_000_000)).unwrap_or(1));
    Ok(config)
}

/// `--audit-sample`'s value: a fraction in (0, 1].
fn fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if f > 0.0 && f <= 1.0 => Ok(f),
        _ => Err(format!(
            "expected a fraction in (0, 1], e.g. 0.001; found `{text}`"
        )),
    }
}

/// A connection timeout flag: a positive duration (e.g. `500ms`, `10s`).
#[cfg(feature = "serve")]
fn timeout(text: &str, flag: &str) -> Result<std::time::Duration, String> {
    let us = parse_duration(text).map_err(|e| format!("{flag}: {e}"))?;
    match u64::try_from(us) {
        Ok(us) if us > 0 => Ok(std::time::Duration::from_micros(us)),
        _ => Err(format!(
            "{flag}: expected a positive duration, found `{text}`"
        )),
    }
}

#[cfg(feature = "serve")]
async fn run(project: Project, args: Args) -> Result<(), String> {
    let mut config = config(&args)?;
    if config.log_served.is_some() {
        config.log_served_metadata =
            featc::diff::fingerprint::served_log_metadata(&project).map_err(|e| e.to_string())?;
    }
    let kafka = kafka_config(&project, &args)?;
    if args.state_store.is_some() {
        if args.bootstrap {
            return Err(
                "--state-store: --bootstrap is not supported in group mode yet: \
                        produce the history to the sources' topics instead"
                    .into(),
            );
        }
        // The instance's own state only names the features (reads are answered by the
        // partitions' tasks, each with a directory of its own under --state).
        config.state = None;
    }
    let sink = match &args.sink {
        Some(url) => {
            Some(RedisTarget::new(url, &args.redis_prefix).map_err(|e| format!("--sink: {e}"))?)
        }
        None => None,
    };
    // A state directory's checkpoint records its state's layout: planned in it, a
    // project whose features were only reordered still loads the checkpoint.
    let layout = match &args.state {
        Some(dir) => {
            featc_server::durable::checkpoint::read_layout(dir).map_err(|e| e.to_string())?
        }
        None => Vec::new(),
    };
    let (plan, graph) =
        featc::lower::stream::serving_graph(&project, &layout).map_err(|e| e.to_string())?;
    let paths = source_bindings(&args.sources, &project)?;
    let server = Server::start(graph.clone(), config)
        .await
        .map_err(|e| e.to_string())?;
    println!("listening on http://{}", server.addr);
    if let Some(health) = server.health_addr {
        eprintln!("featc serve: health checks on http://{health}/health");
    }
    eprintln!("featc serve: {}", server.recovered);
    if let (Some(store), Some(kafka)) = (&args.state_store, &kafka) {
        // Before answering: reads are routed from the first one on.
        let spec = group_spec(&project, &args, store, kafka, &server)?;
        let partitions = spec.partitions;
        server.join_group(spec).map_err(|e| e.to_string())?;
        eprintln!(
            "featc serve: joined group `{}` ({partitions} partitions per entity, state in {store})",
            args.kafka_group
        );
    }
    if args.bootstrap {
        if server.bootstrapped {
            eprintln!(
                "featc serve: the state already holds the sources' history; --bootstrap skipped"
            );
        } else if server.state().read(|rt| rt.metrics().events) > 0 {
            return Err(format!(
                "--bootstrap: the state in `{}` already holds pushed events; loading the history into it would count events twice (start from a new --state)",
                args.state.as_deref().unwrap_or(Path::new("")).display()
            ));
        } else {
            // With the states on disk, the history's sort gets a quarter of their
            // cache's budget (at least `MIN_SORT_MEMORY`): its last run, in memory,
            // overlaps the cache filling.
            let sort_memory = args.state.as_ref().map(|_| {
                let limit = args
                    .memory_limit
                    .map_or_else(featc_server::config::default_memory_limit, |m| m as u64);
                (limit / 4).max(MIN_SORT_MEMORY)
            });
            let history = History {
                project: &project,
                plan: &plan,
                graph: &graph,
                paths: &paths,
                upto: None,
                sort_memory,
            };
            bootstrap(&server, &history, args.quiet).await?;
        }
        server.finish_bootstrap().await.map_err(|e| e.to_string())?;
    } else {
        server.ready().map_err(|e| e.to_string())?;
    }
    if let Some(target) = sink.filter(|_| args.state_store.is_none()) {
        let url = target.url.clone();
        server.sink(target).map_err(|e| e.to_string())?;
        eprintln!("featc serve: keeping {url} current");
    }
    if args.state_store.is_some() {
        // Joined in group mode above.
    } else if let Some(kafka) = kafka {
        let topics: Vec<String> = kafka.topics.iter().map(|t| t.topic.clone()).collect();
        server.consume(kafka).map_err(|e| e.to_string())?;
        eprintln!("featc serve: consuming {}", topics.join(", "));
    }
    // Listening for SIGTERM before saying "ready": a supervisor (or a test) that stops
    // the server as soon as it is ready must get a graceful stop, not a kill.
    let audit = match (args.audit_sample, &args.log_served, &args.state) {
        (Some(fraction), Some(served), Some(state)) => {
            let counters = std::sync::Arc::new(AuditCounters::default());
            server.add_metrics(counters.clone());
            let settings = AuditSettings {
                project: project.clone(),
                served: served.clone(),
                state: state.clone(),
                inputs: paths.clone().into(),
                fraction,
                every: timeout(&args.audit_interval, "--audit-interval")?,
            };
            Some(OnlineAudit::start(settings, counters)?)
        }
        _ => None,
    };
    let signal = featc_server::serve::ShutdownSignal::install();
    eprintln!("featc serve: ready");
    let stopped = server.run_until(signal).await.map_err(|e| e.to_string());
    if let Some(audit) = audit {
        audit.stop();
    }
    stopped?;
    eprintln!("featc serve: stopped");
    Ok(())
}

/// Group mode's settings: each entity's graph, internal topic and tasks' settings.
#[cfg(feature = "serve")]
fn group_spec(
    project: &Project,
    args: &Args,
    store: &str,
    kafka: &KafkaConfig,
    server: &Server,
) -> Result<featc_server::group::GroupSpec, String> {
    use featc_server::group::{topics::internal_topic, EntitySpec, StateStore, TaskSpec};
    let graphs = featc::lower::entity_graphs::entity_graphs(project, &|_| Vec::new())
        .map_err(|e| format!("--state-store: {e}"))?;
    let name = project_name(&args.projects);
    let local = match &args.state {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("featc-group-{}", std::process::id())),
    };
    let mut serve = config(args)?;
    serve.state = None;
    let sink = match &args.sink {
        Some(url) => {
            Some(RedisTarget::new(url, &args.redis_prefix).map_err(|e| format!("--sink: {e}"))?)
        }
        None => None,
    };
    let entities = graphs
        .into_iter()
        .map(|g| EntitySpec {
            task: TaskSpec {
                topic: internal_topic(&name, &args.kafka_group, &g.entity),
                entity: g.entity,
                graph: g.graph,
                serve: serve.clone(),
                kafka: kafka.clone(),
                sink: sink.clone(),
            },
            routes: g.routes,
        })
        .collect();
    Ok(featc_server::group::GroupSpec {
        entities,
        partitions: args.kafka_partitions,
        kafka: kafka.clone(),
        store: StateStore::open(store).map_err(|e| e.to_string())?,
        local,
        address: args
            .advertise
            .clone()
            .unwrap_or_else(|| format!("http://{}", server.addr)),
    })
}

/// The project's name for its internal topics: its folder's (or first file's) name.
#[cfg(feature = "serve")]
fn project_name(paths: &[PathBuf]) -> String {
    let first = paths
        .first()
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()));
    first
        .as_deref()
        .and_then(|p| p.file_stem())
        .map_or_else(|| "project".into(), |n| n.to_string_lossy().into_owned())
}

/// The least memory a bootstrap's sort is given, whatever the cache's budget: a
/// sort needs room for a few batches of rows to spill at all.
#[cfg(feature = "serve")]
const MIN_SORT_MEMORY: u64 = 64 << 20;

/// Loads every source's history into the server (answering 503 meanwhile).
#[cfg(feature = "serve")]
async fn bootstrap(server: &Server, history: &History<'_>, quiet: bool) -> Result<(), String> {
    struct IntoServer<'a>(&'a Server);
    impl HistorySink for IntoServer<'_> {
        fn total(&mut self, events: u64) {
            self.0.bootstrap_total(events);
        }
        fn take(&mut self, source: &str, batch: &RecordBatch) -> Result<(), String> {
            self.0
                .bootstrap_batch(source, batch)
                .map_err(|e| e.to_string())
        }
    }
    let progress = Progress::new(quiet);
    let loaded = load_history(history, &progress, &mut IntoServer(server)).await?;
    eprintln!("featc serve: loaded {loaded} events of history");
    Ok(())
}
