//! The runtime's state in a snapshot body, after the fingerprint and the kind:
//! counters, then per source its watermark inputs, per group the entities seen and
//! (in a full snapshot) every held entity, shard by shard, with its ordinal, next
//! sequence number, key and `KeyState`, then the unknown-entity state, then the dead
//! letters, then what as-of lookups keep (`held`). A snapshot of a tiered runtime holds no entity: they are in its store.
//!
//! Not saved, because nothing observable depends on it: the reused per-batch and
//! per-read buffers, the string interners (rebuilt by interning every loaded string,
//! so equal strings share one allocation again), and the cursors' cached finishes
//! (see `window/snapshot.rs`).

use super::super::partitions::PartitionClock;
use super::super::runtime::StreamRuntime;
use super::{dead_letters, held, keys};
use crate::snapshot::{Reader, SnapshotError, Writer};
use crate::window::KeyState;

fn malformed(what: impl Into<String>) -> SnapshotError {
    SnapshotError::Malformed(what.into())
}

/// About the bytes `save` will write (most of it is the buffered rows), so the body
/// is allocated once instead of copied as it grows.
pub(super) fn size_hint(rt: &StreamRuntime, entities: bool) -> usize {
    let mut states = 0;
    if entities {
        for g in &rt.groups {
            g.core
                .entities
                .for_each_held(|s| states += s.state.snapshot_size_hint() + 24);
        }
    }
    states + rt.dead.rows() * 64 + 4096
}

/// Writes the state; with `entities` false (a tiered runtime), no entity.
pub(super) fn save(
    rt: &StreamRuntime,
    w: &mut Writer,
    entities: bool,
) -> Result<(), SnapshotError> {
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
        let core = &g.core;
        w.u64(core.entities.len());
        w.u64(core.entities.expired());
        w.opt_i64(core.entities.last_sweep());
        if entities {
            let mut n = 0;
            core.entities.for_each_held(|_| n += 1);
            w.usize(n);
            core.entities.for_each_held(|slot| {
                w.u64(slot.ordinal);
                w.u64(slot.next_seq);
                keys::save(&core.key_types, &slot.key, w);
                slot.state.save(w);
            });
        }
        core.with_empty(|empty, _| empty.save(w));
    }
    dead_letters::save(&rt.dead, w)?;
    held::save(rt, w)
}

/// Loads `save`'s state into `rt`, a runtime just built for the snapshot's graph
/// (entities only when `entities`).
pub(super) fn load(
    rt: &mut StreamRuntime,
    r: &mut Reader<'_>,
    entities: bool,
) -> Result<(), SnapshotError> {
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
        let core = std::sync::Arc::clone(&g.core);
        let seen = r.u64()?;
        let expired = r.u64()?;
        let last_sweep = r.opt_i64()?;
        if expired > seen {
            return Err(malformed(format!(
                "{expired} entities expired of {seen} seen"
            )));
        }
        // Strings come back through the group's own interner.
        std::mem::swap(r.strings_mut(), &mut g.strings);
        let loaded = (|| {
            if entities {
                let n = r.count(3)?;
                if n as u64 > seen {
                    return Err(malformed(format!("{n} entities held of {seen} seen")));
                }
                for _ in 0..n {
                    let ordinal = r.u64()?;
                    let next_seq = r.u64()?;
                    let key = keys::load(&core.key_types, r)?;
                    let state = KeyState::load(core.spec.clone(), r)?;
                    core.entities.restore(key, ordinal, next_seq, state);
                }
            }
            KeyState::load(core.spec.clone(), r)
        })();
        std::mem::swap(r.strings_mut(), &mut g.strings);
        let empty = loaded?;
        core.with_empty(|e, _| *e = empty);
        core.entities.set_len(seen, expired);
        core.entities.set_last_sweep(last_sweep);
    }
    rt.dead = dead_letters::load(r)?;
    held::load(rt, r)
}
