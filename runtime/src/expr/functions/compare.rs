//! `least`, `greatest` and `nullif` over any featc type (semantics.md "Functions").
//!
//! `least`/`greatest` order by featc's total order (`value::float_cmp` for floats:
//! `-0.0 < +0.0`, every NaN one value above +inf; strings by bytes; `false < true`),
//! skip nulls, and of arguments that tie (NaNs of different bits) return the first.
//! `nullif` compares by SQL's equality, as `=` does: `-0.0 = +0.0` and NaN = NaN.
//! The two per-value rules (`keeps_best`, `sql_float_eq`) are shared with the scalar
//! path (`expr::scalar`), whose orders are `Value::total_cmp`'s (`value::float_cmp`
//! for floats, as here).

use std::cmp::Ordering;

use datafusion::arrow::array::{new_null_array, Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::compute::{interleave, nullif};
use datafusion::arrow::datatypes::{
    DataType as ArrowType, Date32Type, Decimal128Type, Int64Type, TimeUnit,
    TimestampMicrosecondType,
};
use datafusion::common::{exec_err, DataFusionError, Result};

use super::{floats, rows, strs};
use crate::ir::Function;
use crate::value::float_cmp;

/// Whether `least` (`wins` is `Less`) or `greatest` (`Greater`) keeps the best
/// argument so far against a later non-null one, given how the later one orders
/// against it: a tie keeps the earlier argument.
pub fn keeps_best(later_vs_best: Ordering, wins: Ordering) -> bool {
    later_vs_best != wins
}

/// `nullif`'s float equality (SQL's): the zeros are one value, every NaN equals every
/// NaN.
pub fn sql_float_eq(x: f64, y: f64) -> bool {
    x == y || (x.is_nan() && y.is_nan())
}

/// Compares argument `a` with argument `b` at one row (both valid there).
type Compare<'a> = Box<dyn Fn(usize, usize, usize) -> Ordering + 'a>;

/// The featc total order between the arguments of one type, row by row.
fn total_order(args: &[ArrayRef]) -> Result<Compare<'_>> {
    let ty = args.first().map(|a| a.data_type().clone());
    Ok(match ty {
        Some(ArrowType::Int64) => {
            let a = all(args, |a| a.as_primitive_opt::<Int64Type>())?;
            Box::new(move |x, y, r| a[x].value(r).cmp(&a[y].value(r)))
        }
        Some(ArrowType::Timestamp(TimeUnit::Microsecond, _)) => {
            let a = all(args, |a| a.as_primitive_opt::<TimestampMicrosecondType>())?;
            Box::new(move |x, y, r| a[x].value(r).cmp(&a[y].value(r)))
        }
        Some(ArrowType::Date32) => {
            let a = all(args, |a| a.as_primitive_opt::<Date32Type>())?;
            Box::new(move |x, y, r| a[x].value(r).cmp(&a[y].value(r)))
        }
        // The arguments share one decimal type (`check` unified them): by unscaled value.
        Some(ArrowType::Decimal128(..)) => {
            let a = all(args, |a| a.as_primitive_opt::<Decimal128Type>())?;
            Box::new(move |x, y, r| a[x].value(r).cmp(&a[y].value(r)))
        }
        Some(ArrowType::Float64) => {
            let a = (0..args.len())
                .map(|i| floats(args, i))
                .collect::<Result<Vec<_>>>()?;
            Box::new(move |x, y, r| float_cmp(a[x].value(r), a[y].value(r)))
        }
        Some(ArrowType::Utf8) => {
            let a = (0..args.len())
                .map(|i| strs(args, i))
                .collect::<Result<Vec<_>>>()?;
            Box::new(move |x, y, r| a[x].value(r).as_bytes().cmp(a[y].value(r).as_bytes()))
        }
        Some(ArrowType::Boolean) => {
            let a = all(args, |a| a.as_boolean_opt())?;
            Box::new(move |x, y, r| a[x].value(r).cmp(&a[y].value(r)))
        }
        other => return exec_err!("featc least/greatest/nullif: unexpected type {other:?}"),
    })
}

/// Every argument downcast by `cast`, or an error naming the first that is not.
fn all<'a, T>(
    args: &'a [ArrayRef],
    cast: impl Fn(&'a dyn Array) -> Option<&'a T>,
) -> Result<Vec<&'a T>> {
    args.iter()
        .enumerate()
        .map(|(i, a)| {
            cast(a.as_ref()).ok_or_else(|| {
                DataFusionError::Execution(format!(
                    "featc least/greatest/nullif: argument {i} has another type"
                ))
            })
        })
        .collect()
}

/// Evaluates `least`, `greatest` or `nullif` on its argument arrays (of one type).
pub(super) fn invoke(func: Function, args: &[ArrayRef]) -> Result<ArrayRef> {
    match func {
        Function::Least => pick(args, Ordering::Less),
        Function::Greatest => pick(args, Ordering::Greater),
        Function::Nullif => null_if_equal(args),
        _ => exec_err!("featc: `{}` is not a comparison function", func.name()),
    }
}

/// Per row, the first non-null argument that no later one beats by `wins` (`Less`
/// for `least`): null when every argument is null.
fn pick(args: &[ArrayRef], wins: Ordering) -> Result<ArrayRef> {
    let Some(first) = args.first() else {
        return exec_err!("featc least/greatest: no argument");
    };
    let cmp = total_order(args)?;
    // Rows that are null everywhere take the one value of an extra all-null array.
    let null_source = new_null_array(first.data_type(), 1);
    let mut picks = Vec::with_capacity(rows(args));
    for r in 0..rows(args) {
        let mut best: Option<usize> = None;
        for (k, a) in args.iter().enumerate() {
            if a.is_null(r) {
                continue;
            }
            best = match best {
                Some(b) if keeps_best(cmp(k, b, r), wins) => Some(b),
                _ => Some(k),
            };
        }
        picks.push(best.map_or((args.len(), 0), |k| (k, r)));
    }
    let mut sources: Vec<&dyn Array> = args.iter().map(|a| a.as_ref()).collect();
    sources.push(null_source.as_ref());
    Ok(interleave(&sources, &picks)?)
}

/// `nullif(a, b)`: `a`, null where `a = b` (neither null) under SQL equality.
fn null_if_equal(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
        return exec_err!("featc nullif: two arguments expected");
    };
    let equal: BooleanArray = if a.data_type() == &ArrowType::Float64 {
        let (x, y) = (floats(args, 0)?, floats(args, 1)?);
        x.iter()
            .zip(y.iter())
            .map(|(x, y)| Some(sql_float_eq(x?, y?)))
            .collect()
    } else {
        let cmp = total_order(args)?;
        (0..rows(args))
            .map(|r| (a.is_valid(r) && b.is_valid(r)).then(|| cmp(0, 1, r).is_eq()))
            .collect()
    };
    Ok(nullif(a.as_ref(), &equal)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use std::sync::Arc;

    fn f(values: Vec<Option<f64>>) -> ArrayRef {
        Arc::new(Float64Array::from(values))
    }

    fn float_bits(a: &ArrayRef) -> Vec<Option<u64>> {
        let a = a.as_any().downcast_ref::<Float64Array>().expect("floats");
        a.iter().map(|v| v.map(f64::to_bits)).collect()
    }

    #[test]
    fn least_and_greatest_skip_nulls_and_order_zeros_and_nan() {
        let a = f(vec![Some(0.0), None, Some(f64::NAN), None, Some(1.0)]);
        let b = f(vec![
            Some(-0.0),
            Some(2.0),
            Some(f64::INFINITY),
            None,
            Some(-f64::NAN),
        ]);
        let least = invoke(Function::Least, &[a.clone(), b.clone()]).expect("least");
        let greatest = invoke(Function::Greatest, &[a, b]).expect("greatest");
        let bits = |x: f64| Some(x.to_bits());
        assert_eq!(
            float_bits(&least),
            vec![bits(-0.0), bits(2.0), bits(f64::INFINITY), None, bits(1.0)]
        );
        assert_eq!(
            float_bits(&greatest),
            vec![bits(0.0), bits(2.0), bits(f64::NAN), None, bits(-f64::NAN)]
        );
    }

    #[test]
    fn of_tied_nans_the_first_is_returned() {
        let a = f(vec![Some(-f64::NAN)]);
        let b = f(vec![Some(f64::NAN)]);
        for func in [Function::Least, Function::Greatest] {
            let got = invoke(func, &[a.clone(), b.clone()]).expect("pick");
            assert_eq!(float_bits(&got), vec![Some((-f64::NAN).to_bits())]);
        }
    }

    #[test]
    fn least_of_strings_and_ints() {
        let s: ArrayRef = Arc::new(StringArray::from(vec![Some("b"), Some("B"), None]));
        let t: ArrayRef = Arc::new(StringArray::from(vec![Some("ab"), None, None]));
        let got = invoke(Function::Least, &[s, t]).expect("least");
        assert_eq!(
            got.as_any().downcast_ref::<StringArray>(),
            Some(&StringArray::from(vec![Some("ab"), Some("B"), None]))
        );
        let i: ArrayRef = Arc::new(Int64Array::from(vec![Some(3), Some(-1)]));
        let j: ArrayRef = Arc::new(Int64Array::from(vec![Some(2), Some(5)]));
        let k: ArrayRef = Arc::new(Int64Array::from(vec![None, Some(-7)]));
        let got = invoke(Function::Greatest, &[i, j, k]).expect("greatest");
        assert_eq!(
            got.as_any().downcast_ref::<Int64Array>(),
            Some(&Int64Array::from(vec![Some(3), Some(5)]))
        );
    }

    #[test]
    fn nullif_uses_sql_equality() {
        let a = f(vec![Some(0.0), Some(f64::NAN), Some(1.0), None, Some(2.0)]);
        let b = f(vec![
            Some(-0.0),
            Some(-f64::NAN),
            Some(2.0),
            Some(1.0),
            None,
        ]);
        let got = invoke(Function::Nullif, &[a, b]).expect("nullif");
        assert_eq!(
            float_bits(&got),
            vec![
                None,
                None,
                Some(1.0f64.to_bits()),
                None,
                Some(2.0f64.to_bits())
            ]
        );
        let s: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("a")]));
        let t: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), Some("A")]));
        let got = invoke(Function::Nullif, &[s, t]).expect("nullif");
        assert_eq!(
            got.as_any().downcast_ref::<StringArray>(),
            Some(&StringArray::from(vec![None, Some("a")]))
        );
    }
}
