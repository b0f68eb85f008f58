//! Dense ids for entity keys: the spine's distinct keys are numbered, and each event
//! is mapped to its key's id (or to `NO_KEY` when the spine never asks for its key,
//! or the key is null, so that such events are skipped before sorting).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::Result;

use crate::expr::arrow_type;
use crate::ir::DataType;

/// The id of a row whose key is null or not in the spine.
pub const NO_KEY: u32 = u32::MAX;

/// The distinct keys of a spine, numbered `0..len()`.
pub struct SpineKeyIndex {
    map: KeyMap,
    len: usize,
}

enum KeyMap {
    /// One int64 key column: the common case, hashed without row encoding.
    Int(HashMap<i64, u32>),
    /// Any other key: Arrow's row format gives one comparable byte string per key.
    Rows {
        converter: RowConverter,
        map: HashMap<Box<[u8]>, u32>,
    },
}

/// The ids of some rows, and how many of them had a null key.
pub struct KeyIds {
    pub ids: Vec<u32>,
    pub null_keys: usize,
}

impl SpineKeyIndex {
    /// Numbers the distinct non-null keys of the spine rows (key columns in key
    /// order, of any Arrow type castable to the featc `types`).
    pub fn from_spine(keys: &[ArrayRef], types: &[DataType]) -> Result<(SpineKeyIndex, KeyIds)> {
        let keys = normalise(keys, types)?;
        let rows = keys.first().map_or(0, |k| k.len());
        let mut ids = Vec::with_capacity(rows);
        let mut null_keys = 0;
        let mut next = 0u32;
        let map = if let [k] = keys.as_slice() {
            if let Some(a) = k.as_primitive_opt::<Int64Type>() {
                let mut map = HashMap::new();
                for v in a.iter() {
                    ids.push(match v {
                        None => {
                            null_keys += 1;
                            NO_KEY
                        }
                        Some(v) => *map.entry(v).or_insert_with(|| {
                            next += 1;
                            next - 1
                        }),
                    });
                }
                Some(KeyMap::Int(map))
            } else {
                None
            }
        } else {
            None
        };
        let map = match map {
            Some(m) => m,
            None => {
                let converter = converter(&keys)?;
                let encoded = converter.convert_columns(&keys)?;
                let mut map: HashMap<Box<[u8]>, u32> = HashMap::new();
                for r in 0..rows {
                    if keys.iter().any(|k| k.is_null(r)) {
                        null_keys += 1;
                        ids.push(NO_KEY);
                        continue;
                    }
                    let bytes = encoded.row(r);
                    let id = match map.get(bytes.as_ref()) {
                        Some(id) => *id,
                        None => {
                            map.insert(bytes.as_ref().into(), next);
                            next += 1;
                            next - 1
                        }
                    };
                    ids.push(id);
                }
                KeyMap::Rows { converter, map }
            }
        };
        Ok((
            SpineKeyIndex {
                map,
                len: next as usize,
            },
            KeyIds { ids, null_keys },
        ))
    }

    /// Number of distinct spine keys.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ids of event rows (`NO_KEY` for null or unknown keys).
    pub fn lookup(&self, keys: &[ArrayRef], types: &[DataType]) -> Result<KeyIds> {
        let keys = normalise(keys, types)?;
        let rows = keys.first().map_or(0, |k| k.len());
        let mut ids = Vec::with_capacity(rows);
        let mut null_keys = 0;
        match &self.map {
            KeyMap::Int(map) => {
                let a = keys[0].as_primitive::<Int64Type>();
                for v in a.iter() {
                    ids.push(match v {
                        None => {
                            null_keys += 1;
                            NO_KEY
                        }
                        Some(v) => map.get(&v).copied().unwrap_or(NO_KEY),
                    });
                }
            }
            KeyMap::Rows { converter, map } => {
                let encoded = converter.convert_columns(&keys)?;
                for r in 0..rows {
                    if keys.iter().any(|k| k.is_null(r)) {
                        null_keys += 1;
                        ids.push(NO_KEY);
                    } else {
                        ids.push(map.get(encoded.row(r).as_ref()).copied().unwrap_or(NO_KEY));
                    }
                }
            }
        }
        Ok(KeyIds { ids, null_keys })
    }
}

fn converter(keys: &[ArrayRef]) -> Result<RowConverter> {
    let fields = keys
        .iter()
        .map(|k| SortField::new(k.data_type().clone()))
        .collect();
    Ok(RowConverter::new(fields)?)
}

/// Casts key columns to their featc Arrow types, so spine and events encode alike.
fn normalise(keys: &[ArrayRef], types: &[DataType]) -> Result<Vec<ArrayRef>> {
    keys.iter()
        .zip(types)
        .map(|(k, t)| {
            let target = arrow_type(*t);
            if k.data_type() == &target {
                Ok(Arc::clone(k))
            } else {
                Ok(cast(k, &target)?)
            }
        })
        .collect()
}
