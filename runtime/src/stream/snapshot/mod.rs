//! `StreamRuntime` snapshots: the body `crate::snapshot::format` frames.
//!
//! Body, in order: the `fingerprint` of the graph and options that took it (checked
//! first by `restore`), then the runtime's `state` (counters, sources, per group the
//! entity index from `keys` and every entity's `window::KeyState`, then the
//! `dead_letters` as Arrow IPC).
//!
//! Restore builds a fresh runtime for the graph (all derived structures: schemas,
//! compiled expressions, key specs) and loads the saved state into it; a restored
//! runtime answers every later ingest, read and metric bit for bit like the runtime
//! that was saved (`runtime/tests/stream_snapshot.rs`).
//!
//! Performance (figures in BENCHMARKS.md, "Snapshot"): the snapshot is built in one
//! buffer sized from the state up front (`state::size_hint`), with room for the
//! header filled in last, so the body is never copied; states are prefetched a few
//! entities ahead while written, as `compact` does. Event rows are raw words and
//! times are deltas, so restore is about a memory copy plus one allocation per
//! vector of state.

mod dead_letters;
mod fingerprint;
mod keys;
mod state;

use super::error::RestoreError;
use super::graph::StreamGraph;
use super::policy::Options;
use super::runtime::StreamRuntime;
use crate::snapshot::format;
use crate::snapshot::{Reader, SnapshotError, Writer};
use fingerprint::Fingerprint;

/// `rt`'s snapshot, framed: the header's room is written first and filled in last.
pub(super) fn write(rt: &StreamRuntime) -> Result<Vec<u8>, SnapshotError> {
    let mut w = Writer::with_capacity(format::HEADER_BYTES + state::size_hint(rt));
    (0..format::HEADER_BYTES).for_each(|_| w.u8(0));
    Fingerprint::of(rt.graph(), rt.options()).save(&mut w);
    state::save(rt, &mut w)?;
    format::seal(w.bytes_mut());
    Ok(w.into_bytes())
}

/// Writes `rt`'s snapshot to `out` in one write.
pub(super) fn write_to(
    rt: &StreamRuntime,
    out: &mut impl std::io::Write,
) -> Result<(), SnapshotError> {
    let bytes = write(rt)?;
    let io = |e: std::io::Error| SnapshotError::Io(e.to_string());
    out.write_all(&bytes).map_err(io)?;
    out.flush().map_err(io)
}

/// A runtime for `graph` and `options` in the state `bytes` recorded.
pub(super) fn read(
    graph: StreamGraph,
    options: Options,
    bytes: &[u8],
) -> Result<StreamRuntime, RestoreError> {
    let body = format::open(bytes)?;
    let mut r = Reader::new(body);
    let saved = Fingerprint::load(&mut r)?;
    Fingerprint::of(&graph, &options).accept(&saved)?;
    let mut rt = StreamRuntime::with_options(graph, options).map_err(RestoreError::Runtime)?;
    state::load(&mut rt, &mut r)?;
    r.finish()?;
    Ok(rt)
}
