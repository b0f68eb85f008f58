//! Key columns as the reference keys them (`reference::value::key_of`, and the stream
//! by `Value::canonical`): a float64 key is its canonical bits, every NaN one key
//! whatever its sign or payload, while `-0.0` and `+0.0` stay two keys. The batch path
//! hashes, sorts and compares keys by their bits (DataFusion's hash partitioning, the
//! sorts' total order, the merge's row format, the passes' shares), so a negative NaN
//! and a positive one would be two entities unless each key column is canonical first:
//! the events' (`input_exec`), the spine's (`spine_exec`) and what the passes hash
//! (`share_exec`) all go through `canonical_key`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;

/// An event's key column as the merge keys it: cast to the key's type `ty` (a scan
/// may give a string as a view, a narrower integer...), then canonical. The events'
/// evaluation (`input_exec`) and the passes' cut of the events (`share_exec`) both
/// key by this one function, so a key's events always land in its spine rows' pass.
pub fn typed_key(column: &ArrayRef, ty: &DataType) -> Result<ArrayRef> {
    let typed = if column.data_type() == ty {
        Arc::clone(column)
    } else {
        cast(column, ty)?
    };
    Ok(canonical_key(typed))
}

/// `column` with every NaN as `f64::NAN` when it is a float64 column holding a NaN of
/// other bits; otherwise `column` itself, uncopied (any other type: no work at all).
pub fn canonical_key(column: ArrayRef) -> ArrayRef {
    if column.data_type() != &DataType::Float64 {
        return column;
    }
    let floats = column.as_primitive::<Float64Type>();
    let nan = f64::NAN.to_bits();
    // A null slot's value is never read: rewriting it too is harmless.
    if !floats
        .values()
        .iter()
        .any(|x| x.is_nan() && x.to_bits() != nan)
    {
        return column;
    }
    let canonical: Float64Array =
        floats.unary::<_, Float64Type>(|x| if x.is_nan() { f64::NAN } else { x });
    Arc::new(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;

    fn bits(c: &ArrayRef) -> Vec<Option<u64>> {
        c.as_primitive::<Float64Type>()
            .iter()
            .map(|x| x.map(f64::to_bits))
            .collect()
    }

    #[test]
    fn every_nan_becomes_the_canonical_one_and_the_zeros_stay_apart() {
        let column: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(f64::from_bits(0xFFF8_0000_0000_0000)),
            Some(f64::from_bits(0x7FF8_0000_0000_0001)),
            Some(f64::NAN),
            Some(-0.0),
            Some(0.0),
            None,
            Some(1.5),
        ]));
        let nan = f64::NAN.to_bits();
        assert_eq!(
            bits(&canonical_key(column)),
            [
                Some(nan),
                Some(nan),
                Some(nan),
                Some((-0.0f64).to_bits()),
                Some(0.0f64.to_bits()),
                None,
                Some(1.5f64.to_bits()),
            ]
        );
    }

    #[test]
    fn a_column_with_nothing_to_change_is_returned_as_is() {
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![Some(f64::NAN), Some(-0.0)]));
        assert!(Arc::ptr_eq(&canonical_key(Arc::clone(&floats)), &floats));
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        assert!(Arc::ptr_eq(&canonical_key(Arc::clone(&ints)), &ints));
    }
}
