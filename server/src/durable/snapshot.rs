//! The runtime's state as checkpoint bytes and back: the runtime's own snapshot
//! format, which records the graph and options it belongs to (and refuses others)
//! and checksums itself.

use featc_runtime::snapshot::SnapshotError;
use featc_runtime::stream::{Options, RestoreError, StreamGraph, StreamRuntime};

/// The runtime's whole state.
pub fn take(rt: &StreamRuntime) -> Result<Vec<u8>, SnapshotError> {
    rt.snapshot()
}

/// A runtime in the state `bytes` recorded.
pub fn restore(
    graph: StreamGraph,
    options: Options,
    bytes: &[u8],
) -> Result<StreamRuntime, RestoreError> {
    StreamRuntime::restore(graph, options, bytes)
}
