//! The runtime's state in a snapshot body, after the fingerprint: counters, then per
//! source its watermark inputs, per group its entity index, one `KeyState` per
//! entity and the unknown-entity state, then the dead letters.
//!
//! Not saved, because nothing observable depends on it: the reused per-batch and
//! per-read buffers (`Group::rows`, `row_ids`, the runtime's scratch vectors), the
//! string interners (rebuilt by interning every loaded string, so equal strings
//! share one allocation again), and the cursors' cached finishes (see
//! `window/snapshot.rs`).

use super::super::partitions::PartitionClock;
use super::super::runtime::StreamRuntime;
use super::{dead_letters, keys};
use crate::snapshot::{Reader, SnapshotError, Writer};
use crate::window::{KeyState, PREFETCH_STAGES};

fn malformed(what: impl Into<String>) -> SnapshotError {
    SnapshotError::Malformed(what.into())
}

/// About the bytes `save` will write (most of it is the buffered rows), so the body
/// is allocated once instead of copied as it grows.
pub(super) fn size_hint(rt: &StreamRuntime) -> usize {
    let states: usize = rt
        .groups
        .iter()
        .flat_map(|g| &g.states)
        .map(KeyState::snapshot_size_hint)
        .sum();
    let keys: usize = rt.groups.iter().map(|g| g.keys.len() * 8).sum();
    states + keys + rt.dead.rows() * 64 + 4096
}

pub(super) fn save(rt: &StreamRuntime, w: &mut Writer) -> Result<(), SnapshotError> {
    w.u64(rt.seq);
    w.opt_i64(rt.hold);
    let m = &rt.metrics;
    for c in [m.events, m.late, m.dead_lettered, m.null_keys] {
        w.u64(c);
    }
    w.usize(rt.sources.len());
    for s in &rt.sources {
        w.opt_i64(s.max_ts);
        w.opt_i64(s.promised);
        w.usize(s.partitions.clocks.len());
        for c in &s.partitions.clocks {
            w.i64(i64::from(c.id));
            w.i64(c.max_ts);
            w.u8(u8::from(c.idle));
        }
    }
    w.usize(rt.groups.len());
    for g in &rt.groups {
        keys::save(&g.keys, w);
        w.usize(g.states.len());
        for (i, s) in g.states.iter().enumerate() {
            // Each state is cold and a chain of pointers: load the ones a few places
            // ahead level by level while this one is written (as `Group::compact`).
            for (stage, &distance) in PREFETCH_STAGES.iter().enumerate() {
                if let Some(next) = g.states.get(i + distance) {
                    next.prefetch(stage, true);
                }
            }
            s.save(w);
        }
        g.empty.save(w);
    }
    dead_letters::save(&rt.dead, w)
}

/// Loads `save`'s state into `rt`, a runtime just built for the snapshot's graph.
pub(super) fn load(rt: &mut StreamRuntime, r: &mut Reader<'_>) -> Result<(), SnapshotError> {
    rt.seq = r.u64()?;
    rt.hold = r.opt_i64()?;
    rt.metrics.events = r.u64()?;
    rt.metrics.late = r.u64()?;
    rt.metrics.dead_lettered = r.u64()?;
    rt.metrics.null_keys = r.u64()?;
    if r.usize()? != rt.sources.len() {
        return Err(malformed("another number of sources"));
    }
    for s in &mut rt.sources {
        s.max_ts = r.opt_i64()?;
        s.promised = r.opt_i64()?;
        let n = r.count(17)?;
        s.partitions.clocks = (0..n)
            .map(|_| {
                let id = i32::try_from(r.i64()?).map_err(|_| malformed("a partition id"))?;
                Ok(PartitionClock {
                    id,
                    max_ts: r.i64()?,
                    idle: r.u8()? != 0,
                })
            })
            .collect::<Result<Vec<_>, SnapshotError>>()?;
    }
    if r.usize()? != rt.groups.len() {
        return Err(malformed("another number of groups"));
    }
    for g in &mut rt.groups {
        g.keys = keys::load(&g.key_types, r)?;
        let n = r.count(1)?;
        if n != g.keys.len() {
            return Err(malformed(format!(
                "{n} entity states for {} entity keys",
                g.keys.len()
            )));
        }
        // Strings come back through the group's own interner.
        std::mem::swap(r.strings_mut(), &mut g.strings);
        let loaded = (|| {
            let mut states = Vec::with_capacity(n);
            for _ in 0..n {
                states.push(KeyState::load(g.spec.clone(), r)?);
            }
            Ok::<_, SnapshotError>((states, KeyState::load(g.spec.clone(), r)?))
        })();
        std::mem::swap(r.strings_mut(), &mut g.strings);
        (g.states, g.empty) = loaded?;
    }
    rt.dead = dead_letters::load(r)?;
    Ok(())
}
