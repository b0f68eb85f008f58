//! `dot`, `cosine` and `l2_distance` of two numeric lists (semantics.md "List
//! columns and embeddings"), row by row through `row::vector`, the arithmetic every
//! path shares. Null when a list or an item is null, or the lengths differ.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{Float64Type, Int64Type};
use datafusion::common::{exec_err, Result};

use super::lists::lists;
use crate::ir::Function;
use crate::row::vector;

/// One list's items as floats (int64 items converted to the nearest float64, as `+`
/// converts them); `None` when an item is null or the items are not numbers.
fn floats_of(items: &ArrayRef) -> Option<Vec<f64>> {
    if items.null_count() > 0 {
        return None;
    }
    if let Some(f) = items.as_primitive_opt::<Float64Type>() {
        return Some(f.values().to_vec());
    }
    let i = items.as_primitive_opt::<Int64Type>()?;
    Some(i.values().iter().map(|&x| x as f64).collect())
}

/// The value of `func` for two lists' items (`None`: null).
pub fn apply(func: Function, a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() {
        return None;
    }
    match func {
        Function::Dot => Some(vector::dot(a, b)),
        Function::L2Distance => Some(vector::l2_distance(a, b)),
        Function::Cosine => vector::cosine(a, b),
        _ => None,
    }
}

/// Evaluates a vector function on its two list argument arrays.
pub(super) fn invoke(func: Function, args: &[ArrayRef]) -> Result<ArrayRef> {
    let (a, b) = (lists(args, 0)?, lists(args, 1)?);
    if a.len() != b.len() {
        return exec_err!("featc {}: arguments of different lengths", func.name());
    }
    let out: Float64Array = (0..a.len())
        .map(|r| {
            if a.is_null(r) || b.is_null(r) {
                return None;
            }
            let (x, y) = (floats_of(&a.value(r))?, floats_of(&b.value(r))?);
            apply(func, &x, &y)
        })
        .collect();
    Ok(Arc::new(out))
}
