//! Counters of the streaming executor, for monitoring and for the replay summary.

/// Counters since the runtime was created; `entities` and `state_bytes` are current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Metrics {
    /// Rows accepted by `ingest` (all sources).
    pub events: u64,
    /// Rows older than their source's watermark when ingested (see `LatePolicy`).
    pub late: u64,
    /// Late rows sent to the dead-letter sink instead of the state.
    pub dead_lettered: u64,
    /// (row, key_by) pairs skipped because a key column was null.
    pub null_keys: u64,
    /// Events waiting for their as-of lookups now (bounded by `Options::max_held_rows`).
    pub held_rows: u64,
    /// Distinct entity keys held (in memory or in the disk tier), summed over key_by
    /// groups; an entity past its retention leaves this count when it is forgotten.
    pub entities: u64,
    /// Entities forgotten past their retention (expiry), summed over key_by groups.
    pub expired_entities: u64,
    /// Approximate bytes of per-entity state (buffers and accumulators).
    pub state_bytes: u64,
}
