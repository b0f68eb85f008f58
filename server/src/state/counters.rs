//! What the state's writer counts (pushes applied, the log, checkpoints), over the
//! process's life, for `/metrics`. The ledger adds to them; anyone reads them.

use std::sync::atomic::AtomicU64;

/// The ledger's counters (atomics: read by `/metrics` while the writer runs).
#[derive(Debug, Default)]
pub struct StateCounters {
    /// Pushed rows made durable and applied.
    pub rows_accepted: AtomicU64,
    /// Pushed rows that were late when applied.
    pub rows_late: AtomicU64,
    /// Pushes answered from the idempotency record instead of being applied again.
    pub pushes_duplicate: AtomicU64,
    pub wal_records: AtomicU64,
    pub wal_bytes: AtomicU64,
    pub wal_syncs: AtomicU64,
    pub checkpoints: AtomicU64,
    pub checkpoint_failures: AtomicU64,
    /// Rows the checkpoints archived (`durable::archive`).
    pub archived_rows: AtomicU64,
    /// How long the last checkpoint took, in microseconds.
    pub last_checkpoint_us: AtomicU64,
}
