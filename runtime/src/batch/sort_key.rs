//! An event's (key, time) packed into one 128-bit integer that sorts as the pair does,
//! for a group keyed by one integer-like column: the events' sort before the merge
//! (and the merge of its sorted runs, spilled or not) then compares one primitive per
//! row, DataFusion's single-column fast path, instead of building and comparing rows
//! of two columns. The pair's order is the one the merge reads in: keys ascending,
//! null keys first, then times ascending.
//!
//! The packed value travels as a `Decimal128(38, 0)` column, Arrow's only 128-bit
//! integer type; it is never shown, cast or checked against the decimal precision
//! (nothing in a sort, a repartition or a spill file does), only compared.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Decimal128Array, Int64Array, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType as ArrowType, Date32Type, Decimal128Type, Int64Type, TimestampMicrosecondType,
};
use datafusion::common::{DataFusionError, Result};

use crate::ir::DataType;
use crate::plan::GroupPlan;

/// Name of a group input's packed (key, time) column, when the group has one.
pub const SORT_KEY_COLUMN: &str = "__sort";

/// The packed column's type.
pub const SORT_KEY_TYPE: ArrowType = ArrowType::Decimal128(38, 0);

/// Whether the group's events carry a packed sort key: one key column whose values
/// are (or widen losslessly to) an `i64` ordered as the key.
pub fn packs(group: &GroupPlan) -> bool {
    matches!(
        group.keys.as_slice(),
        [k] if matches!(k.ty, DataType::Int64 | DataType::Timestamp | DataType::Date)
    )
}

/// One (key, time) as one `i128` whose signed order is the pair's: the key in the
/// high 64 bits (signed), the time in the low 64 with its sign bit flipped (so that
/// its unsigned order there is its signed order).
pub fn pack_one(key: i64, time: i64) -> i128 {
    ((key as i128) << 64) | i128::from((time as u64) ^ (1 << 63))
}

/// The key of a packed (key, time): the high 64 bits.
pub fn unpack_key(packed: i128) -> i64 {
    (packed >> 64) as i64
}

/// The time of a packed (key, time): the low 64 bits, their sign bit flipped back.
pub fn unpack_time(packed: i128) -> i64 {
    ((packed as u64) ^ (1 << 63)) as i64
}

/// The times of a packed column, in its order (a null key's too: its value is the
/// pair's, only marked null).
pub fn times(packed: &ArrayRef) -> Result<Vec<i64>> {
    let packed = packed
        .as_primitive_opt::<Decimal128Type>()
        .ok_or_else(|| DataFusionError::Internal("the packed sort key is not 128-bit".into()))?;
    Ok(packed.values().iter().map(|&p| unpack_time(p)).collect())
}

/// The packed column of a batch: `key` (the group's one key column, as its declared
/// type) and `time` (µs; its nulls are refused before, `input_exec`). A null key's
/// value is the pair's, marked null: it sorts first as the null key does, and keeps
/// its time for the merge.
pub fn pack(key: &ArrayRef, time: &ArrayRef) -> Result<ArrayRef> {
    let time = time
        .as_primitive_opt::<TimestampMicrosecondType>()
        .ok_or_else(|| DataFusionError::Internal("the group's time column is not µs".into()))?;
    // Each key type's values widened as they are packed: no copy of the key column.
    let times = time.values();
    let values: Vec<i128> = match key.data_type() {
        ArrowType::Int64 => pack_all(
            key.as_primitive::<Int64Type>().values().iter().copied(),
            times,
        ),
        ArrowType::Timestamp(_, _) => pack_all(
            key.as_primitive_opt::<TimestampMicrosecondType>()
                .ok_or_else(|| DataFusionError::Internal("a timestamp key is not µs".into()))?
                .values()
                .iter()
                .copied(),
            times,
        ),
        ArrowType::Date32 => pack_all(
            key.as_primitive::<Date32Type>()
                .values()
                .iter()
                .map(|&d| i64::from(d)),
            times,
        ),
        other => {
            return Err(DataFusionError::Internal(format!(
                "a key of type {other} has no packed sort key"
            )))
        }
    };
    let packed =
        Decimal128Array::new(values.into(), key.nulls().cloned()).with_data_type(SORT_KEY_TYPE);
    Ok(Arc::new(packed))
}

/// The keys of a packed column as a column of `ty` (the group's one key, as its
/// declared type), nulls where the key is null: what the packed column replaces, for
/// the repartition by key (`key_of`) and the merge's key rows.
pub fn keys(packed: &ArrayRef, ty: &ArrowType) -> Result<ArrayRef> {
    let packed = packed
        .as_primitive_opt::<Decimal128Type>()
        .ok_or_else(|| DataFusionError::Internal("the packed sort key is not 128-bit".into()))?;
    let nulls = packed.nulls().cloned();
    let key = |&p: &i128| unpack_key(p);
    let keys: ArrayRef = match ty {
        ArrowType::Int64 => Arc::new(Int64Array::new(
            packed.values().iter().map(key).collect(),
            nulls,
        )),
        ArrowType::Timestamp(_, _) => Arc::new(
            TimestampMicrosecondArray::new(packed.values().iter().map(key).collect(), nulls)
                .with_data_type(ty.clone()),
        ),
        // Exact: a date's key was widened from its i32 (`pack`).
        ArrowType::Date32 => Arc::new(Date32Array::new(
            packed.values().iter().map(|p| key(p) as i32).collect(),
            nulls,
        )),
        other => {
            return Err(DataFusionError::Internal(format!(
                "a key of type {other} has no packed sort key"
            )))
        }
    };
    Ok(keys)
}

/// Each key beside its row's time, packed.
fn pack_all(keys: impl Iterator<Item = i64>, times: &[i64]) -> Vec<i128> {
    keys.zip(times).map(|(k, &t)| pack_one(k, t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::compute::{lexsort_to_indices, sort_to_indices, SortColumn};
    use proptest::prelude::*;

    /// Values at the edges of the order, where a wrong shift or sign flip shows.
    fn edge() -> impl Strategy<Value = i64> {
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MIN + 1),
            Just(-1i64),
            Just(0i64),
            Just(1i64),
            Just(i64::MAX - 1),
            Just(i64::MAX),
            -3i64..3,
            any::<i64>(),
        ]
    }

    proptest! {
        /// Sorting by the packed column gives the order of sorting by (key, time),
        /// nulls first: the same (key, time) at every position.
        #[test]
        fn the_packed_order_is_the_pairs(
            rows in proptest::collection::vec((proptest::option::weighted(0.9, edge()), edge()), 0..200)
        ) {
            let key: ArrayRef = Arc::new(rows.iter().map(|r| r.0).collect::<Int64Array>());
            let time: ArrayRef =
                Arc::new(rows.iter().map(|r| Some(r.1)).collect::<TimestampMicrosecondArray>());
            let packed = pack(&key, &time).unwrap();
            let by_packed = sort_to_indices(&packed, None, None).unwrap();
            let by_pair = lexsort_to_indices(
                &[
                    SortColumn { values: Arc::clone(&key), options: None },
                    SortColumn { values: Arc::clone(&time), options: None },
                ],
                None,
            )
            .unwrap();
            let at = |i: u32| rows[i as usize];
            let packed_rows: Vec<_> = by_packed.values().iter().map(|&i| at(i)).collect();
            let pair_rows: Vec<_> = by_pair.values().iter().map(|&i| at(i)).collect();
            // Null keys come first in both; their times are in no promised order.
            let nulls = rows.iter().filter(|r| r.0.is_none()).count();
            prop_assert!(packed_rows[..nulls].iter().all(|r| r.0.is_none()));
            prop_assert_eq!(&packed_rows[nulls..], &pair_rows[nulls..]);
        }
    }

    #[test]
    fn the_packed_type_is_the_declared_one_and_keeps_nulls() {
        let key: ArrayRef = Arc::new(Int64Array::from(vec![Some(3), None]));
        let time: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![5, 6]));
        let packed = pack(&key, &time).unwrap();
        assert_eq!(packed.data_type(), &SORT_KEY_TYPE);
        assert!(packed.is_null(1));
        assert_eq!(
            packed.as_primitive::<Decimal128Type>().value(0),
            pack_one(3, 5)
        );
        // The merge reads the times back from the packed column, null keys' too.
        assert_eq!(times(&packed).unwrap(), [5, 6]);
    }

    #[test]
    fn timestamp_and_date_keys_pack_as_their_integers() {
        use datafusion::arrow::array::Date32Array;
        let time: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![7, 8]));
        let stamps: ArrayRef =
            Arc::new(TimestampMicrosecondArray::from(vec![-5, 9]).with_timezone("UTC"));
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![-5, 9]));
        for key in [stamps, dates] {
            let packed = pack(&key, &time).unwrap();
            let values = packed.as_primitive::<Decimal128Type>().values().to_vec();
            assert_eq!(
                values,
                [pack_one(-5, 7), pack_one(9, 8)],
                "{}",
                key.data_type()
            );
        }
    }

    #[test]
    fn the_keys_read_back_as_their_declared_type_with_their_nulls() {
        use datafusion::arrow::array::Date32Array;
        let time: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![7, 8, 9]));
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(i64::MIN), None, Some(i64::MAX)]));
        let stamps: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![Some(-5), None, Some(9)]).with_timezone("UTC"),
        );
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![
            Some(i32::MIN),
            None,
            Some(i32::MAX),
        ]));
        for key in [ints, stamps, dates] {
            let packed = pack(&key, &time).unwrap();
            assert_eq!(
                &keys(&packed, key.data_type()).unwrap(),
                &key,
                "{}",
                key.data_type()
            );
        }
    }

    proptest! {
        #[test]
        fn a_pair_unpacks_to_itself(key in edge(), time in edge()) {
            prop_assert_eq!(unpack_time(pack_one(key, time)), time);
            prop_assert_eq!(unpack_key(pack_one(key, time)), key);
        }
    }
}
