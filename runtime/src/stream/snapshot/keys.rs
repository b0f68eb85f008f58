//! The entity index (`stream::key::EntityIndex`) in a snapshot: every key in id
//! order, so that loading inserts them back under the same dense ids, and the
//! table's capacity, so that it takes the memory it took before.

use std::hash::Hash;
use std::sync::Arc;

use datafusion::common::HashMap;

use super::super::key::EntityIndex;
use crate::ir::DataType;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::{Value, ValueKey};

fn malformed(what: impl Into<String>) -> SnapshotError {
    SnapshotError::Malformed(what.into())
}

/// The keys of `m` by id (ids are dense, `0..m.len()`, by the index's invariant).
fn by_id<K>(m: &HashMap<K, u32>) -> Vec<Option<&K>> {
    let mut keys = vec![None; m.len()];
    for (k, &id) in m {
        if let Some(slot) = keys.get_mut(id as usize) {
            *slot = Some(k);
        }
    }
    keys
}

fn save_map<K>(w: &mut Writer, m: &HashMap<K, u32>, mut key: impl FnMut(&mut Writer, &K)) {
    w.usize(m.len());
    w.usize(m.capacity());
    for k in by_id(m).into_iter().flatten() {
        key(w, k);
    }
}

/// Reads `save_map`'s keys, key `i` getting id `i`.
fn load_map<K: Hash + Eq>(
    r: &mut Reader<'_>,
    mut key: impl FnMut(&mut Reader<'_>) -> Result<K, SnapshotError>,
) -> Result<HashMap<K, u32>, SnapshotError> {
    let n = r.count(1)?;
    let cap = r.capacity(n)?;
    let mut m = HashMap::default();
    m.try_reserve(cap)
        .map_err(|_| malformed(format!("cannot allocate {cap} entity keys")))?;
    for id in 0..n {
        if m.insert(key(r)?, id as u32).is_some() {
            return Err(malformed(format!("entity key {id} repeats an earlier one")));
        }
    }
    Ok(m)
}

pub(super) fn save(index: &EntityIndex, w: &mut Writer) {
    match index {
        EntityIndex::Int64(m) => save_map(w, m, |w, k| w.i64(*k)),
        EntityIndex::String(m) => save_map(w, m, |w, k| w.str(k)),
        EntityIndex::Other(m) => save_map(w, m, |w, k| {
            w.usize(k.len());
            k.iter().for_each(|v| v.save(w));
        }),
    }
}

/// The index of key columns `types` that `save` wrote.
pub(super) fn load(types: &[DataType], r: &mut Reader<'_>) -> Result<EntityIndex, SnapshotError> {
    Ok(match EntityIndex::new(types) {
        EntityIndex::Int64(_) => EntityIndex::Int64(load_map(r, |r| r.i64())?),
        // Keys are their own allocations, as `get_or_insert` makes them.
        EntityIndex::String(_) => EntityIndex::String(load_map(r, |r| Ok(Arc::from(r.str()?)))?),
        EntityIndex::Other(_) => EntityIndex::Other(load_map(r, |r| {
            let n = r.count(1)?;
            if n != types.len() {
                return Err(malformed(format!(
                    "an entity key of {n} values for {} columns",
                    types.len()
                )));
            }
            (0..n)
                .map(|_| Value::load(r).map(ValueKey))
                .collect::<Result<Vec<_>, _>>()
        })?),
    })
}
