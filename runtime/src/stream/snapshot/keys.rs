//! An entity key in a snapshot: its values in the encoding its key types give (an
//! int64, a string, or values one by one), read back as a key of those types.

use crate::ir::DataType;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

pub(super) fn save(types: &[DataType], key: &[Value], w: &mut Writer) {
    match (types, key) {
        ([DataType::Int64], [Value::Int64(k)]) => w.i64(*k),
        ([DataType::String], [Value::String(k)]) => w.str(k),
        (_, key) => {
            w.usize(key.len());
            key.iter().for_each(|v| v.save(w));
        }
    }
}

/// A key of key columns `types` that `save` wrote.
pub(super) fn load(types: &[DataType], r: &mut Reader<'_>) -> Result<Box<[Value]>, SnapshotError> {
    Ok(match types {
        [DataType::Int64] => Box::new([Value::Int64(r.i64()?)]),
        // Keys are their own allocations, as the ingest makes them.
        [DataType::String] => Box::new([Value::String(r.str()?.into())]),
        _ => {
            let n = r.count(1)?;
            if n != types.len() {
                return Err(SnapshotError::Malformed(format!(
                    "an entity key of {n} values for {} columns",
                    types.len()
                )));
            }
            (0..n)
                .map(|_| Value::load(r).map(|v| v.canonical()))
                .collect::<Result<_, _>>()?
        }
    })
}
