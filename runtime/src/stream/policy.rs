//! What the executor does with events later than the allowed lateness, and its other
//! options.

/// The fate of a late event: one whose time is older than its source's watermark
/// (the greatest event time seen on that source minus the allowed lateness).
///
/// Late events are always counted (`Metrics::late`). The default is `Apply`: the
/// event is aggregated like any other, so the semantics.md guarantee (reads at `t`
/// equal the PIT value once every event with `ts <= t` was ingested, in any order)
/// keeps holding for every read at or after the watermark. `DeadLetter` keeps such
/// events out of the state and appends them to the runtime's dead-letter sink
/// (`StreamRuntime::dead_letters`), from which the embedder can inspect or replay them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LatePolicy {
    #[default]
    Apply,
    DeadLetter,
}

/// Executor options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub late_policy: LatePolicy,
    /// A floor on every source's allowed lateness (µs): the effective lateness is
    /// `max(declared, min_lateness_us)`. Replays set it to their disorder.
    pub min_lateness_us: i64,
    /// How many events an entity buffers before ingest folds them into its windows
    /// (at least 1; default `DEFAULT_FOLD_RUN`). Longer runs make ingest faster on
    /// large key spaces (an entity's state, cold in memory, is visited once per run
    /// instead of once per event) and let the first read of an entity fold up to that
    /// many pending events itself. Values never depend on it.
    pub fold_run: u32,
    /// How many events may wait for their as-of lookups at once (see
    /// `stream::lookup`); a batch that would pass it is refused whole. Values never
    /// depend on it.
    pub max_held_rows: u64,
}

/// The default `Options::max_held_rows`: about 16.8 million events.
pub const DEFAULT_MAX_HELD_ROWS: u64 = 1 << 24;

/// The default `Options::fold_run` (see BENCHMARKS.md for its measured trade-off:
/// at 1e7 events, 64 ingests 16-19% faster than 32, with the same state and the same
/// read latency after `compact`; reads that land on a run in progress pay for the
/// longer run, p99 33 µs against 28 µs at 1e7 and 21 µs against 17 µs at 1e6; 128
/// gains 5% more for a p999 half again as high).
pub const DEFAULT_FOLD_RUN: u32 = 64;

impl Default for Options {
    fn default() -> Self {
        Options {
            late_policy: LatePolicy::Apply,
            min_lateness_us: 0,
            fold_run: DEFAULT_FOLD_RUN,
            max_held_rows: DEFAULT_MAX_HELD_ROWS,
        }
    }
}
