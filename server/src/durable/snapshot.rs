//! The runtime's state as checkpoint bytes and back: the runtime's own snapshot
//! format, which records the graph and options it belongs to (and refuses others)
//! and checksums itself.

use featc_runtime::snapshot::SnapshotError;
use featc_runtime::stream::{Options, RestoreError, StreamGraph, StreamRuntime, Tier};

/// The runtime's state: all of it, or with a disk tier, the entities written to the
/// store (and it synced) and the rest as the snapshot.
pub fn take(rt: &StreamRuntime) -> Result<Vec<u8>, SnapshotError> {
    rt.flush().map_err(|e| SnapshotError::Io(e.to_string()))?;
    rt.snapshot()
}

/// A runtime in the state `bytes` recorded (with `tier`'s store, when it has one).
pub fn restore(
    graph: StreamGraph,
    options: Options,
    tier: Option<Tier>,
    bytes: &[u8],
) -> Result<StreamRuntime, RestoreError> {
    StreamRuntime::restore_with_tier(graph, options, tier, bytes)
}
