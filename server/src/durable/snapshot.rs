//! The runtime's state as checkpoint bytes and back (the runtime's own snapshot
//! format, which records the graph it belongs to and checksums itself).

use featc_runtime::stream::{Options, StreamGraph, StreamRuntime};

/// The runtime's whole state.
pub fn take(_rt: &StreamRuntime) -> Result<Vec<u8>, String> {
    Err("TEMPORARY: runtime snapshots are not merged yet".into())
}

/// A runtime in the state `bytes` recorded.
pub fn restore(
    _graph: StreamGraph,
    _options: Options,
    _bytes: &[u8],
) -> Result<StreamRuntime, String> {
    Err("TEMPORARY: runtime snapshots are not merged yet".into())
}
