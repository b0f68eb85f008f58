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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    pub late_policy: LatePolicy,
    /// A floor on every source's allowed lateness (µs): the effective lateness is
    /// `max(declared, min_lateness_us)`. Replays set it to their disorder.
    pub min_lateness_us: i64,
}
