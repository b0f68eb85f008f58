//! `StreamRuntime` snapshots: the body `crate::snapshot::format` frames.
//!
//! Body, in order: the `fingerprint` of the graph and options that took it (checked
//! first by `restore`), the kind (0: full; 1: of a tiered runtime, whose entities
//! are in its store), then the runtime's `state` (counters, sources, per group the
//! entities with their `keys` and `window::KeyState`s, then the `dead_letters` as
//! Arrow IPC).
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
mod held;
mod keys;
mod state;

use super::entities::Tier;
use super::error::RestoreError;
use super::graph::StreamGraph;
use super::policy::Options;
use super::runtime::StreamRuntime;
use crate::snapshot::format;
use crate::snapshot::{Reader, SnapshotError, Writer};
use fingerprint::Fingerprint;

/// `rt`'s snapshot, framed: the header's room is written first and filled in last.
/// A tiered runtime's holds no entity (`flush` put them in its store).
pub(super) fn write(rt: &StreamRuntime) -> Result<Vec<u8>, SnapshotError> {
    let entities = !rt.is_tiered();
    let mut w = Writer::with_capacity(format::HEADER_BYTES + state::size_hint(rt, entities));
    (0..format::HEADER_BYTES).for_each(|_| w.u8(0));
    Fingerprint::of(rt.graph(), rt.options()).save(&mut w);
    w.u8(u8::from(!entities));
    state::save(rt, &mut w, entities)?;
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

/// A runtime for `graph` and `options` (with `tier`) in the state `bytes` recorded.
/// A full snapshot loads into a tiered runtime too (its entities go to the cache,
/// and on to the store as the budget asks); a tiered one needs a tier.
pub(super) fn read(
    graph: StreamGraph,
    options: Options,
    tier: Option<Tier>,
    bytes: &[u8],
) -> Result<StreamRuntime, RestoreError> {
    let body = format::open(bytes)?;
    let mut r = Reader::new(body);
    let saved = Fingerprint::load(&mut r)?;
    Fingerprint::of(&graph, &options).accept(&saved)?;
    let tiered = match r.u8()? {
        0 => false,
        1 => true,
        k => return Err(SnapshotError::Malformed(format!("snapshot kind {k}")).into()),
    };
    if tiered && tier.is_none() {
        return Err(SnapshotError::NeedsTier.into());
    }
    let mut rt = StreamRuntime::with_tier(graph, options, tier).map_err(RestoreError::Runtime)?;
    state::load(&mut rt, &mut r, !tiered)?;
    r.finish()?;
    rt.publish();
    rt.publish_groups();
    Ok(rt)
}
