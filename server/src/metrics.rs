//! `GET /metrics`: every part's counters (the state's writer, the requests, Kafka,
//! the Redis sink, what reads served) and the runtime's view, rendered in one place
//! in Prometheus' text format; with the instruments the requests are counted with
//! (`RouteStats`, `Histogram`, `RequestCounters`). Each part keeps its own counters;
//! this module only reads them.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::kafka::KafkaCounters;
use crate::names::Names;
use crate::redis::SinkCounters;
use crate::served::Served;
use crate::state::dead_letters::{Count, Totals};
use crate::state::online::SourceRow;
use crate::state::{FutureCounts, RuntimeView, StateCounters};

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 10.0,
];

/// A Prometheus histogram of durations, lock-free.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        if let Some(b) = BUCKETS.iter().position(|&le| s <= le) {
            self.buckets[b].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_ns
            .fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (le, b) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += b.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
        let sum = self.sum_ns.load(Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}

/// One route's counters.
#[derive(Debug, Default)]
pub struct RouteStats {
    pub ok: AtomicU64,
    pub client_errors: AtomicU64,
    pub server_errors: AtomicU64,
    pub latency: Histogram,
}

impl RouteStats {
    pub fn record(&self, status: u16, took: Duration) {
        let counter = match status {
            200..=399 => &self.ok,
            400..=499 => &self.client_errors,
            _ => &self.server_errors,
        };
        counter.fetch_add(1, Relaxed);
        self.latency.observe(took);
    }
}

/// What the transport counts of requests (the HTTP API keeps one).
#[derive(Debug, Default)]
pub struct RequestCounters {
    pub reads: RouteStats,
    pub pushes: RouteStats,
    /// Entities answered by reads.
    pub entities_read: AtomicU64,
    /// Requests refused for a missing or wrong token.
    pub unauthorized: AtomicU64,
    /// Pushes refused whole (bad rows or columns).
    pub pushes_refused: AtomicU64,
    /// Refusals of a bound of the server's resources (`ApiError::Overloaded`).
    pub overloaded: OverloadCounters,
}

/// What the bounds of the server's resources refused, by bound.
#[derive(Debug, Default)]
pub struct OverloadCounters {
    /// Connections past `--max-connections` answered by the reserve (a 503, or
    /// `/health`).
    pub connections_answered: AtomicU64,
    /// Connections past `--max-connections` and the reserve, closed on accept.
    pub connections_closed: AtomicU64,
    /// Requests past `--max-in-flight`.
    pub in_flight: AtomicU64,
    /// Pushes past `--max-queued-pushes`.
    pub push_queue: AtomicU64,
    /// Pushes that would hold more than `--max-held-rows` events for their lookups.
    pub held_rows: AtomicU64,
}

/// The runtime's view for `/metrics`, shared by the scrapes: computing it scans the
/// entities held (O(entities), a shard at a time), so one is computed at a time, and scrapes
/// that waited for it take the one that started after they arrived instead of
/// scanning again (a flood of scrapes costs one scan at a time, each answer as
/// fresh as its request).
#[derive(Debug, Default)]
pub struct ViewCache {
    slot: std::sync::Mutex<Option<CachedView>>,
}

#[derive(Debug)]
struct CachedView {
    view: std::sync::Arc<RuntimeView>,
    /// When its computation started.
    started: std::time::Instant,
}

impl ViewCache {
    /// A view computed after this call began, by `compute` if no other scrape's
    /// is (blocking: call off the async workers).
    pub fn get(&self, compute: impl FnOnce() -> RuntimeView) -> std::sync::Arc<RuntimeView> {
        let arrived = std::time::Instant::now();
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cached) = slot.as_ref().filter(|c| c.started >= arrived) {
            return std::sync::Arc::clone(&cached.view);
        }
        let started = std::time::Instant::now();
        let view = std::sync::Arc::new(compute());
        *slot = Some(CachedView {
            view: std::sync::Arc::clone(&view),
            started,
        });
        view
    }
}

/// Everything one scrape shows, borrowed from the parts that count it.
pub struct Page<'a> {
    /// Whether the server answers reads (bootstrap done).
    pub ready: bool,
    pub view: &'a RuntimeView,
    pub state: &'a StateCounters,
    /// Events refused past `--max-future`, by source (the push check's).
    pub future: &'a FutureCounts,
    pub requests: &'a RequestCounters,
    pub kafka: &'a KafkaCounters,
    pub redis: &'a SinkCounters,
    pub served: &'a Served,
    pub names: &'a Names,
    /// The dead-letter store's counts.
    pub dead_letters: &'a Totals,
    /// The scrape's time (µs since the epoch).
    pub now_us: i64,
}

/// The dead-letter store: letters by source and reason (all, and kept now), what it
/// keeps, and what it dropped.
fn render_dead_letters(out: &mut String, totals: &Totals) {
    let by =
        |out: &mut String, name: &str, help: &str, kind: &str, value: &dyn Fn(&Count) -> u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (source, reason, count) in &totals.counts {
                let reason = reason.name();
                let v = value(count);
                let _ = writeln!(out, "{name}{{source=\"{source}\",reason=\"{reason}\"}} {v}");
            }
        };
    by(
        out,
        "featc_dead_letters_total",
        "Events kept out of the state (GET /dead-letters), by source and reason (late, future, invalid).",
        "counter",
        &|c| c.total,
    );
    by(
        out,
        "featc_dead_letter_bytes_total",
        "Bytes of those dead letters, as the store counts them.",
        "counter",
        &|c| c.bytes,
    );
    by(
        out,
        "featc_dead_letters_kept",
        "Dead letters the store keeps now (listed by GET /dead-letters).",
        "gauge",
        &|c| c.kept,
    );
    let _ = writeln!(
        out,
        "# HELP featc_dead_letter_store_bytes Bytes the dead-letter store keeps (bounded by --dead-letter-bytes).\n# TYPE featc_dead_letter_store_bytes gauge\nfeatc_dead_letter_store_bytes {}",
        totals.kept.1
    );
    let _ = writeln!(
        out,
        "# HELP featc_dead_letters_dropped_total Dead letters the store no longer keeps, by why: evicted (past --dead-letter-bytes) or expired (past --dead-letter-retention).\n# TYPE featc_dead_letters_dropped_total counter\nfeatc_dead_letters_dropped_total{{why=\"evicted\"}} {}\nfeatc_dead_letters_dropped_total{{why=\"expired\"}} {}",
        totals.dropped.0, totals.dropped.1
    );
}

/// The whole `/metrics` page.
/// Families `/metrics` shows from outside the server (`Server::add_metrics`: `featc
/// serve`'s background audit). Invariant: `render` returns whole Prometheus text
/// families (`# HELP`, `# TYPE`, samples), every line ending in a newline, and
/// returns quickly (it runs on every scrape).
pub trait MetricsSource: Send + Sync {
    fn render(&self) -> String;
}

pub fn render(page: &Page<'_>) -> String {
    let mut text = counters(page);
    text.push_str(&render_served(page.served, page.names));
    text
}

/// Every counter but the served features' (see `render_served`).
fn counters(page: &Page<'_>) -> String {
    let (view, now_us) = (page.view, page.now_us);
    let (state, requests, kafka, redis) = (page.state, page.requests, page.kafka, page.redis);
    let mut out = String::with_capacity(8192);
    let mut gauge = |name: &str, help: &str, kind: &str, value: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    gauge(
        "featc_ready",
        "1 when the server answers reads (bootstrap done).",
        "gauge",
        u64::from(page.ready).to_string(),
    );
    gauge(
        "featc_events_total",
        "Events ingested (all sources).",
        "counter",
        view.events.to_string(),
    );
    gauge(
        "featc_late_events_total",
        "Events older than their source's watermark when ingested.",
        "counter",
        view.late.to_string(),
    );
    gauge(
        "featc_dead_lettered_total",
        "Late events kept out of the state (dead-letter policy).",
        "counter",
        view.dead_lettered.to_string(),
    );
    gauge(
        "featc_null_key_rows_total",
        "(row, entity) pairs skipped because a key column was null.",
        "counter",
        view.null_keys.to_string(),
    );
    gauge(
        "featc_held_rows",
        "Events waiting for their as-of lookups' sources (bounded by --max-held-rows).",
        "gauge",
        view.held_rows.to_string(),
    );
    gauge(
        "featc_entities",
        "Entity keys held in the online state.",
        "gauge",
        view.entities.to_string(),
    );
    gauge(
        "featc_entities_expired_total",
        "Entities forgotten past their retention (every window and ttl passed).",
        "counter",
        view.expired_entities.to_string(),
    );
    gauge(
        "featc_state_bytes",
        "Approximate bytes of the entity states held in memory (with a disk tier, \
         what its cache counts).",
        "gauge",
        view.state_bytes.to_string(),
    );
    let tier = &view.tier;
    if tier.enabled {
        gauge(
            "featc_state_cache_entities",
            "Entity states held decoded in the disk tier's cache.",
            "gauge",
            tier.held.to_string(),
        );
        gauge(
            "featc_state_cache_limit_bytes",
            "The disk tier cache's budget (--memory-limit).",
            "gauge",
            tier.budget_bytes.to_string(),
        );
        gauge(
            "featc_state_store_bytes",
            "Bytes the disk tier's store takes on disk.",
            "gauge",
            view.store_disk_bytes.to_string(),
        );
        gauge(
            "featc_state_loads_total",
            "Entity states read from the disk tier's store.",
            "counter",
            tier.loads.to_string(),
        );
        gauge(
            "featc_state_evictions_total",
            "Entity states let go by the cache.",
            "counter",
            tier.evictions.to_string(),
        );
        gauge(
            "featc_state_writes_total",
            "Entity states written to the store (evicted changed, or by a checkpoint).",
            "counter",
            tier.written.to_string(),
        );
        gauge(
            "featc_state_store_errors_total",
            "Writes to the disk tier's store that failed (the states stayed in memory).",
            "counter",
            tier.store_errors.to_string(),
        );
    }
    let c = |a: &AtomicU64| a.load(Relaxed).to_string();
    gauge(
        "featc_unauthorized_total",
        "Requests refused for a missing or wrong token.",
        "counter",
        c(&requests.unauthorized),
    );
    gauge(
        "featc_entities_read_total",
        "Entities answered by reads.",
        "counter",
        c(&requests.entities_read),
    );
    gauge(
        "featc_push_rows_accepted_total",
        "Pushed rows made durable and applied.",
        "counter",
        c(&state.rows_accepted),
    );
    gauge(
        "featc_kafka_records_total",
        "Kafka records applied to the state (over the state's life: exact across restarts).",
        "counter",
        c(&kafka.records),
    );
    gauge(
        "featc_kafka_dead_lettered_total",
        "Kafka records that did not decode or were refused, kept out of the state.",
        "counter",
        c(&kafka.dead),
    );
    gauge(
        "featc_kafka_consumer_errors_total",
        "Times the Kafka consumer failed (broker unreachable, topic gone) and started again.",
        "counter",
        c(&kafka.errors),
    );
    gauge(
        "featc_redis_hashes_written_total",
        "Hashes the Redis sink wrote.",
        "counter",
        c(&redis.written),
    );
    gauge(
        "featc_redis_keys_deleted_total",
        "Keys the Redis sink deleted because every value of the hash was null (ttl).",
        "counter",
        c(&redis.deleted),
    );
    gauge(
        "featc_redis_errors_total",
        "Redis writes that failed (the hashes are computed and written again).",
        "counter",
        c(&redis.errors),
    );
    gauge(
        "featc_redis_lag_seconds",
        "The latest Redis flush: from the first change it carried to Redis's answer.",
        "gauge",
        (redis.lag_us.load(Relaxed) as f64 / 1e6).to_string(),
    );
    gauge(
        "featc_push_rows_late_total",
        "Pushed rows that were late when applied.",
        "counter",
        c(&state.rows_late),
    );
    gauge(
        "featc_pushes_refused_total",
        "Pushes refused whole (bad rows or columns).",
        "counter",
        c(&requests.pushes_refused),
    );
    gauge(
        "featc_pushes_duplicate_total",
        "Pushes recognised by their idempotency key and not applied again.",
        "counter",
        c(&state.pushes_duplicate),
    );
    gauge(
        "featc_wal_records_total",
        "Records appended to the write-ahead log.",
        "counter",
        c(&state.wal_records),
    );
    gauge(
        "featc_wal_bytes_total",
        "Bytes appended to the write-ahead log.",
        "counter",
        c(&state.wal_bytes),
    );
    gauge(
        "featc_wal_syncs_total",
        "fsyncs of the write-ahead log (one per group commit).",
        "counter",
        c(&state.wal_syncs),
    );
    gauge(
        "featc_checkpoints_total",
        "Checkpoints written.",
        "counter",
        c(&state.checkpoints),
    );
    gauge(
        "featc_checkpoint_failures_total",
        "Checkpoints that failed (the log is kept).",
        "counter",
        c(&state.checkpoint_failures),
    );
    gauge(
        "featc_archived_rows_total",
        "Acknowledged events archived by checkpoints for featc audit (STATE/archive).",
        "counter",
        c(&state.archived_rows),
    );
    gauge(
        "featc_last_checkpoint_seconds",
        "Duration of the last checkpoint.",
        "gauge",
        (state.last_checkpoint_us.load(Relaxed) as f64 / 1e6).to_string(),
    );
    let _ = writeln!(
        out,
        "# HELP featc_future_events_total Events refused (pushes) or dead-lettered (Kafka) for a time more than --max-future ahead of the wall clock, by source.\n# TYPE featc_future_events_total counter"
    );
    for (source, n) in page.future.by_source() {
        let _ = writeln!(out, "featc_future_events_total{{source=\"{source}\"}} {n}");
    }
    render_dead_letters(&mut out, page.dead_letters);
    let o = &requests.overloaded;
    let _ = writeln!(
        out,
        "# HELP featc_overloaded_total Requests and connections refused by a bound of the server's resources, by bound.\n# TYPE featc_overloaded_total counter"
    );
    for (cause, n) in [
        ("connections_answered", &o.connections_answered),
        ("connections_closed", &o.connections_closed),
        ("in_flight", &o.in_flight),
        ("push_queue", &o.push_queue),
        ("held_rows", &o.held_rows),
    ] {
        let _ = writeln!(out, "featc_overloaded_total{{cause=\"{cause}\"}} {}", c(n));
    }
    // One gauge per source, for the sources that have a value.
    let per_source =
        |out: &mut String, name: &str, help: &str, value: &dyn Fn(&SourceRow) -> Option<f64>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for row in &view.sources {
                if let Some(v) = value(row) {
                    let _ = writeln!(out, "{name}{{source=\"{}\"}} {v}", row.0);
                }
            }
        };
    let seconds = |us: i64| us as f64 / 1e6;
    per_source(
        &mut out,
        "featc_source_watermark_seconds",
        "A source's watermark (latest event time minus allowed lateness), Unix seconds.",
        &|r| r.1.map(seconds),
    );
    per_source(
        &mut out,
        "featc_source_freshness_lag_seconds",
        "Now minus a source's latest event time, never below 0 (an event time ahead of the clock is fresh, not negatively late).",
        // Clamped: a lag below zero only says the producer's clock (or an event's
        // time) is ahead, and a negative gauge breaks every alert written as `> x`.
        &|r| r.2.map(|l| seconds(now_us.saturating_sub(l).max(0))),
    );
    per_source(
        &mut out,
        "featc_source_freshness_contract_seconds",
        "A source's freshness contract (the tightest `freshness` of the source and its views).",
        &|r| r.3.map(seconds),
    );
    per_source(
        &mut out,
        "featc_source_freshness_violated",
        "1 when a source with a freshness contract has no event within it (now minus its latest event time is longer, or it has none).",
        &|r| {
            r.3.map(|contract| {
                let freshness = featc_runtime::stream::Freshness {
                    contract_us: Some(contract),
                    lag_us: r.2.map(|l| now_us - l),
                };
                f64::from(u8::from(freshness.violated()))
            })
        },
    );
    let _ = writeln!(out, "# HELP featc_requests_total Requests answered, by route and status class.\n# TYPE featc_requests_total counter");
    for (route, s) in [("read", &requests.reads), ("push", &requests.pushes)] {
        for (class, n) in [
            ("2xx", &s.ok),
            ("4xx", &s.client_errors),
            ("5xx", &s.server_errors),
        ] {
            let _ = writeln!(
                out,
                "featc_requests_total{{route=\"{route}\",status=\"{class}\"}} {}",
                n.load(Relaxed)
            );
        }
    }
    let _ = writeln!(out, "# HELP featc_request_seconds Time to answer a request, by route.\n# TYPE featc_request_seconds histogram");
    requests
        .reads
        .latency
        .render(&mut out, "featc_request_seconds", "route=\"read\"");
    requests
        .pushes
        .latency
        .render(&mut out, "featc_request_seconds", "route=\"push\"");
    out
}

/// The served vectors' per-feature fill counts and ratios, and the served log's
/// counters (`served::Served`). A feature's ratio is over the vectors that asked for
/// it; it is absent until one did.
fn render_served(served: &Served, names: &Names) -> String {
    let mut out = String::new();
    let families = [
        (
            "featc_served_feature_vectors_total",
            "Answered vectors that asked for the feature.",
            "counter",
        ),
        (
            "featc_served_feature_filled_total",
            "Answered vectors in which the feature had a (non-null) value.",
            "counter",
        ),
        (
            "featc_served_feature_fill_ratio",
            "filled / vectors: the feature's fill rate over the answered vectors.",
            "gauge",
        ),
    ];
    for (k, (name, help, kind)) in families.iter().enumerate() {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (f, entry) in names.features.iter().enumerate() {
            let asked = served.asked.get(f).map_or(0, |a| a.load(Relaxed));
            let filled = served.filled.get(f).map_or(0, |a| a.load(Relaxed));
            let label = entry.name.replace('\\', "\\\\").replace('"', "\\\"");
            let value = match k {
                0 => asked.to_string(),
                1 => filled.to_string(),
                _ if asked == 0 => continue,
                _ => (filled as f64 / asked as f64).to_string(),
            };
            let _ = writeln!(out, "{name}{{feature=\"{label}\"}} {value}");
        }
    }
    if served.logging() {
        let counters = [
            (
                "featc_served_log_vectors_total",
                "Answered vectors written to the served log (--log-served).",
                &served.logged,
            ),
            (
                "featc_served_log_dropped_vectors_total",
                "Answered vectors not logged because the log's channel was full.",
                &served.dropped,
            ),
            (
                "featc_served_log_failed_vectors_total",
                "Answered vectors the log could not write (an IO error, on stderr).",
                &served.log_errors,
            ),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.load(Relaxed)
            );
        }
    }
    out
}
