//! Entity keys: an id per key held in one shard of a group's entity states, with
//! allocation-free lookups for the common single int64 or single string key, and
//! removal (a disk tier lets entities go and their ids be reused).

use std::sync::Arc;

use datafusion::common::HashMap;

use crate::ir::DataType;
use crate::row::Cells;
use crate::value::{Value, ValueKey};

/// Keys to ids.
///
/// Invariant: a key is found (`get`, `get_cells`) iff it was inserted and not removed
/// since; keys are compared by `Value::total_eq` (so a float key `-0.0` differs from
/// `+0.0`).
#[derive(Debug, Clone)]
pub enum EntityIndex {
    Int64(HashMap<i64, u32>),
    String(HashMap<Arc<str>, u32>),
    Other(HashMap<Vec<ValueKey>, u32>),
}

impl EntityIndex {
    pub fn new(types: &[DataType]) -> EntityIndex {
        match types {
            [DataType::Int64] => EntityIndex::Int64(HashMap::new()),
            [DataType::String] => EntityIndex::String(HashMap::new()),
            _ => EntityIndex::Other(HashMap::new()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            EntityIndex::Int64(m) => m.len(),
            EntityIndex::String(m) => m.len(),
            EntityIndex::Other(m) => m.len(),
        }
    }

    /// The id of a key given as values (a reader's key); `None` when not held or when
    /// the values do not have the key's shape.
    pub fn get(&self, key: &[Value]) -> Option<u32> {
        match (self, key) {
            (EntityIndex::Int64(m), [Value::Int64(k)]) => m.get(k).copied(),
            (EntityIndex::String(m), [Value::String(k)]) => m.get(&**k).copied(),
            (EntityIndex::Other(m), _) => {
                let k: Vec<ValueKey> = key.iter().map(|v| ValueKey(v.canonical())).collect();
                m.get(&k).copied()
            }
            _ => None,
        }
    }

    /// The id of the key at `row` of the key columns (whose cells are not null), if
    /// held: the ingest's lookup, without building the key's values.
    #[inline]
    pub fn get_cells(&self, cols: &[Cells<'_>], row: usize) -> Option<u32> {
        match (self, cols) {
            (EntityIndex::Int64(m), [Cells::Int64(a)]) => m.get(&a.value(row)).copied(),
            (EntityIndex::String(m), [Cells::String(a)]) => m.get(a.value(row)).copied(),
            (EntityIndex::Other(m), cols) => {
                let k: Vec<ValueKey> = cols
                    .iter()
                    .map(|c| ValueKey(c.get(row).canonical()))
                    .collect();
                m.get(&k).copied()
            }
            // `new` and the key columns' types agree; a mismatch means the batch's
            // columns were not conformed, which `ingest` prevents.
            _ => None,
        }
    }

    /// Holds `key` (values of the index's shape, as `key_values` makes them) under `id`.
    pub fn insert(&mut self, key: &[Value], id: u32) {
        match (self, key) {
            (EntityIndex::Int64(m), [Value::Int64(k)]) => {
                m.insert(*k, id);
            }
            (EntityIndex::String(m), [Value::String(k)]) => {
                m.insert(Arc::clone(k), id);
            }
            (EntityIndex::Other(m), key) => {
                m.insert(key.iter().map(|v| ValueKey(v.canonical())).collect(), id);
            }
            _ => {}
        }
    }

    /// Lets `key` go; its id, if it was held.
    pub fn remove(&mut self, key: &[Value]) -> Option<u32> {
        match (self, key) {
            (EntityIndex::Int64(m), [Value::Int64(k)]) => m.remove(k),
            (EntityIndex::String(m), [Value::String(k)]) => m.remove(&**k),
            (EntityIndex::Other(m), key) => {
                let k: Vec<ValueKey> = key.iter().map(|v| ValueKey(v.canonical())).collect();
                m.remove(&k)
            }
            _ => None,
        }
    }
}

/// The key at `row` of the key columns as values (`None` when a cell is null): what a
/// new entity keeps, and what the index and the store are keyed by.
pub fn key_values(cols: &[Cells<'_>], row: usize) -> Option<Box<[Value]>> {
    if cols.iter().any(|c| c.is_null(row)) {
        return None;
    }
    Some(cols.iter().map(|c| c.get(row)).collect())
}
