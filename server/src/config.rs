//! How a server runs: its address, its state directory, its clock, its tokens and
//! limits (`ServeConfig`, built by `featc serve` from its flags, or by an embedder
//! directly), and the part of it the online state's core reads (`StateConfig`, which
//! the embedded store sets on its own).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use featc_runtime::stream::{LatePolicy, Options};

/// What "now" is for a read that gives no `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The wall clock (production).
    #[default]
    Wall,
    /// The latest event time ingested from any source (replays and demos on
    /// historical data).
    Events,
}

/// Everything `serve` needs besides the graph.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// The state directory (write-ahead log and checkpoints); `None`: in memory only.
    pub state: Option<PathBuf>,
    pub clock: Clock,
    /// Bearer token reads must carry (`None`: reads are open).
    pub read_token: Option<String>,
    /// Bearer token pushes must carry (`None`: pushes are open).
    pub push_token: Option<String>,
    /// Allows a non-loopback `listen` without tokens.
    pub insecure: bool,
    /// The largest request body accepted, in bytes (a larger one is a 413).
    pub body_limit: usize,
    /// The most entities one read may ask for (more is a 400).
    pub max_entities: usize,
    /// Connections served at once; past it a small reserve answers `/health` and a
    /// 503 `too_many_connections`, and beyond that a connection is closed on accept.
    pub max_connections: u32,
    /// Requests handled at once (every route but `/health`); past it a 503
    /// `too_many_requests`, before the token is checked or the body read.
    pub max_in_flight: u32,
    /// Pushes taken but not yet answered (queued for, or in, the writer's group
    /// commit); past it a 429 `push_queue_full`.
    pub max_queued_pushes: u32,
    /// A connection must have sent a request's complete headers this long after it
    /// opened or its previous answer was sent, or it is closed (slow or idle clients).
    pub header_timeout: Duration,
    /// A connection on which no byte moves either way for this long is closed
    /// (stalled bodies, answers nobody reads).
    pub idle_timeout: Duration,
    /// How many connections the listening socket's accept queue holds (the kernel
    /// caps it at `net.core.somaxconn`); past it a connect's SYN is dropped and the
    /// client retries a second later.
    pub listen_backlog: u32,
    /// `--health-listen`: an address of its own for `GET /health` (and `/metrics`),
    /// served apart from `listen`'s connections so a flood there cannot delay it.
    pub health_listen: Option<SocketAddr>,
    /// A checkpoint is taken when this many events were logged since the last one...
    pub checkpoint_events: u64,
    /// ... or this long after the last one, whichever comes first (if anything was
    /// logged since).
    pub checkpoint_interval: Duration,
    /// A floor on every source's allowed lateness, in microseconds.
    pub min_lateness_us: i64,
    /// `--max-future`: a pushed event (or Kafka record) more than this many
    /// microseconds ahead of the wall clock is refused (dead-lettered).
    pub max_future_us: i64,
    pub late_policy: LatePolicy,
    /// `Options::fold_run` of the runtime.
    pub fold_run: u32,
    /// `--max-held-rows`: `Options::max_held_rows` of the runtime.
    pub max_held_rows: u64,
    /// `--memory-limit`: with a state directory, entity states live in a disk tier in
    /// it and the decoded ones held in memory count at most this many bytes;
    /// `None`: a quarter of the machine's memory (`default_memory_limit`).
    pub memory_limit: Option<u64>,
    /// The dead-letter store's bounds (`--dead-letter-bytes`,
    /// `--dead-letter-retention`).
    pub dead_letters: DeadLetterLimits,
    /// With a state directory: how long the archive of acknowledged events keeps a
    /// file (`durable::archive`); `None`: no archive.
    pub archive_retention: Option<Duration>,
    /// `--log-served`: the folder every answered read's vectors are appended to as
    /// Parquet (`served::log`); `None`: not logged.
    pub log_served: Option<PathBuf>,
    /// A served-log file is completed and a new one started past this many bytes.
    pub log_served_rotate: u64,
    /// ... or once its first row is this old (so that a quiet server's reads reach a
    /// complete file, which `featc audit` reads, within this long).
    pub log_served_max_age: Duration,
    /// Added to the served log's schema metadata (`featc serve`: the features'
    /// meanings, so that `featc audit` tells a changed definition apart).
    pub log_served_metadata: Vec<(String, String)>,
}

impl ServeConfig {
    /// Defaults for a server listening on `listen`.
    pub fn new(listen: SocketAddr) -> ServeConfig {
        ServeConfig {
            listen,
            state: None,
            clock: Clock::Wall,
            read_token: None,
            push_token: None,
            insecure: false,
            body_limit: 64 << 20,
            max_entities: 100_000,
            max_connections: 1024,
            max_in_flight: 64,
            max_queued_pushes: 32,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            listen_backlog: 4096,
            health_listen: None,
            checkpoint_events: 5_000_000,
            checkpoint_interval: Duration::from_secs(300),
            min_lateness_us: 0,
            max_future_us: DEFAULT_MAX_FUTURE_US,
            late_policy: LatePolicy::Apply,
            fold_run: featc_runtime::stream::DEFAULT_FOLD_RUN,
            max_held_rows: featc_runtime::stream::DEFAULT_MAX_HELD_ROWS,
            memory_limit: None,
            dead_letters: DeadLetterLimits::default(),
            archive_retention: Some(DEFAULT_ARCHIVE_RETENTION),
            log_served: None,
            log_served_rotate: 64 << 20,
            log_served_max_age: DEFAULT_LOG_SERVED_MAX_AGE,
            log_served_metadata: Vec::new(),
        }
    }

    /// The default address: loopback, Feast's port.
    pub const DEFAULT_LISTEN: &'static str = "127.0.0.1:6566";

    /// The runtime's options under these flags.
    pub fn runtime_options(&self) -> Options {
        Options {
            late_policy: self.late_policy,
            min_lateness_us: self.min_lateness_us,
            fold_run: self.fold_run,
            max_held_rows: self.max_held_rows,
        }
    }

    /// What the state's core reads of these flags.
    pub fn state_config(&self) -> StateConfig {
        StateConfig {
            clock: self.clock,
            checkpoint_events: self.checkpoint_events,
            checkpoint_interval: self.checkpoint_interval,
            memory_limit: Some(self.memory_limit.unwrap_or_else(default_memory_limit)),
            max_future_us: self.max_future_us,
            dead_letters: self.dead_letters,
            archive_retention: self.archive_retention,
            options: self.runtime_options(),
        }
    }
}

/// What the online state's core (`state`) needs to know: what "now" is, when to
/// checkpoint, where entity states live, and the runtime's options. Nothing of the
/// transport (addresses, tokens, limits).
#[derive(Debug, Clone)]
pub struct StateConfig {
    pub clock: Clock,
    /// A checkpoint is due after this many events since the last one...
    pub checkpoint_events: u64,
    /// ... or this long after it, whichever comes first (if anything changed since).
    pub checkpoint_interval: Duration,
    /// With a state directory: entity states in a disk tier there, with a cache of
    /// decoded states counting at most this many bytes (`state::recover`); `None`:
    /// every entity in memory (and in full in each checkpoint).
    pub memory_limit: Option<u64>,
    /// How far ahead of the wall clock a pushed event's time may be, in
    /// microseconds (see `state::future`).
    pub max_future_us: i64,
    /// The dead-letter store's bounds (see `state::dead_letters`).
    pub dead_letters: DeadLetterLimits,
    /// With a state directory: how long the archive of acknowledged events keeps a
    /// file (`durable::archive`); `None`: no archive.
    pub archive_retention: Option<Duration>,
    pub options: Options,
}

impl StateConfig {
    /// The embedded store's: one copy (reads and pushes come from one thread), and a
    /// checkpoint every `EMBEDDED_CHECKPOINT_EVENTS` pushed events, never by time
    /// (nothing runs between the caller's calls).
    pub fn embedded(options: Options) -> StateConfig {
        StateConfig {
            clock: Clock::Wall,
            checkpoint_events: EMBEDDED_CHECKPOINT_EVENTS,
            checkpoint_interval: Duration::MAX,
            memory_limit: None,
            max_future_us: DEFAULT_MAX_FUTURE_US,
            dead_letters: DeadLetterLimits::default(),
            archive_retention: Some(DEFAULT_ARCHIVE_RETENTION),
            options,
        }
    }
}

/// How long a served-log file takes rows by default.
pub const DEFAULT_LOG_SERVED_MAX_AGE: Duration = Duration::from_secs(3600);

/// How long the archive of acknowledged events keeps a file by default.
pub const DEFAULT_ARCHIVE_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// `--memory-limit`'s default: a quarter of the machine's memory (the rest is for
/// the store's own caches, the allocator's slack, requests and the page cache).
pub fn default_memory_limit() -> u64 {
    const FALLBACK: u64 = 8 << 30;
    featc_runtime::io::machine_memory().map_or(FALLBACK / 4, |m| m as u64 / 4)
}

/// The dead-letter store's bounds (`state::dead_letters`): the bytes its letters may
/// take (`--dead-letter-bytes`, the oldest dropped past it) and how long a checkpoint
/// keeps a letter (`--dead-letter-retention`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadLetterLimits {
    pub max_bytes: u64,
    pub retention: Duration,
}

impl Default for DeadLetterLimits {
    fn default() -> DeadLetterLimits {
        DeadLetterLimits {
            max_bytes: 64 << 20,
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// How many pushed events the embedded store takes between checkpoints.
pub const EMBEDDED_CHECKPOINT_EVENTS: u64 = 5_000_000;

/// The default `--max-future`: an event may be an hour ahead of the wall clock (see
/// `state::future`).
pub const DEFAULT_MAX_FUTURE_US: i64 = 3_600_000_000;
