//! Entity keys: a dense id per distinct key of a key_by node, with allocation-free
//! lookups for the common single int64 or single string key.

use std::sync::Arc;

use datafusion::common::HashMap;

use crate::ir::DataType;
use crate::row::Cells;
use crate::value::{Value, ValueKey};

/// Distinct keys to dense ids `0..len()`, in order of first insertion.
///
/// Invariant: a key is found by `get` iff it was inserted by `get_or_insert`; keys are
/// compared by `Value::total_eq` (so a float key `-0.0` differs from `+0.0`).
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

    /// Every key, as values, in id order (the order of first insertion).
    pub fn keys(&self) -> Vec<Vec<Value>> {
        let mut out: Vec<Vec<Value>> = vec![Vec::new(); self.len()];
        let mut put = |id: u32, key: Vec<Value>| {
            if let Some(slot) = out.get_mut(id as usize) {
                *slot = key;
            }
        };
        match self {
            EntityIndex::Int64(m) => m
                .iter()
                .for_each(|(k, &id)| put(id, vec![Value::Int64(*k)])),
            EntityIndex::String(m) => m
                .iter()
                .for_each(|(k, &id)| put(id, vec![Value::String(Arc::clone(k))])),
            EntityIndex::Other(m) => m
                .iter()
                .for_each(|(k, &id)| put(id, k.iter().map(|v| v.0.clone()).collect())),
        }
        out
    }

    /// The id of a key given as values (a reader's key); `None` when never seen or
    /// when the values do not have the key's shape.
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

    /// The id of the key at `row` of the key columns, inserting it if new; `None`
    /// when any key column is null there (the row is not aggregated).
    #[inline]
    pub fn get_or_insert(&mut self, cols: &[Cells<'_>], row: usize) -> Option<u32> {
        if cols.iter().any(|c| c.is_null(row)) {
            return None;
        }
        let next = self.len() as u32;
        Some(match (self, cols) {
            (EntityIndex::Int64(m), [Cells::Int64(a)]) => *m.entry(a.value(row)).or_insert(next),
            (EntityIndex::String(m), [Cells::String(a)]) => {
                let s = a.value(row);
                match m.get(s) {
                    Some(id) => *id,
                    None => {
                        m.insert(Arc::from(s), next);
                        next
                    }
                }
            }
            (EntityIndex::Other(m), cols) => {
                let k: Vec<ValueKey> = cols
                    .iter()
                    .map(|c| ValueKey(c.get(row).canonical()))
                    .collect();
                *m.entry(k).or_insert(next)
            }
            // `new` and the key columns' types agree; a mismatch means the batch's
            // columns were not conformed, which `ingest` prevents.
            _ => return None,
        })
    }
}
