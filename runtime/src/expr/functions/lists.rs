//! The list row functions: `size`, `element_at` (and `xs[i]`), and `contains` of a
//! list (semantics.md "List columns and embeddings"), on featc's list columns
//! (`row::list_column`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray};
use datafusion::arrow::compute::take;
use datafusion::common::{exec_err, Result};

use super::ints;
use crate::ir::{DataType, Function};
use crate::row::list::list_type_of;
use crate::row::Cells;
use crate::value::Value;

/// Argument `i` as a list column.
pub(super) fn lists(args: &[ArrayRef], i: usize) -> Result<&ListArray> {
    match args.get(i).and_then(|a| a.as_list_opt::<i32>()) {
        Some(a) => Ok(a),
        None => exec_err!("featc function: argument {i} is not a list"),
    }
}

/// The 0-based position `element_at(xs, i)` reads in a list of `len` items: `i`
/// counts from 1, or from the end when negative; `None` out of range (and for 0).
pub fn element_index(len: usize, i: i64) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let at = match i {
        0 => return None,
        i if i > 0 => i - 1,
        i => len.checked_add(i)?,
    };
    (0..len).contains(&at).then_some(at as usize)
}

/// `=` on two non-null items, as comparisons read it: `-0.0 = +0.0`, NaN = NaN.
pub fn items_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float64(x), Value::Float64(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

/// `contains(xs, v)` on one list's items: true when an item equals `v`; else null
/// when an item is null; else false.
pub fn list_contains(items: &[Value], v: &Value) -> Option<bool> {
    if items.iter().any(|x| !x.is_null() && items_equal(x, v)) {
        return Some(true);
    }
    (!items.iter().any(Value::is_null)).then_some(false)
}

/// Evaluates a list function on its argument arrays.
pub(super) fn invoke(func: Function, args: &[ArrayRef]) -> Result<ArrayRef> {
    let xs = lists(args, 0)?;
    Ok(match func {
        Function::Size => {
            let out: Int64Array = (0..xs.len())
                .map(|r| xs.is_valid(r).then(|| xs.value_length(r) as i64))
                .collect();
            Arc::new(out)
        }
        Function::ElementAt => {
            let at = ints(args, 1)?;
            let offsets = xs.value_offsets();
            let positions: Int64Array = (0..xs.len())
                .map(|r| {
                    if xs.is_null(r) || at.is_null(r) {
                        return None;
                    }
                    let len = usize::try_from(xs.value_length(r)).ok()?;
                    let i = element_index(len, at.value(r))?;
                    Some(i64::from(offsets[r]) + i as i64)
                })
                .collect();
            take(xs.values().as_ref(), &positions, None)?
        }
        Function::Contains => {
            let Some(ty) = list_type_of(xs.data_type()) else {
                return exec_err!("featc contains: not a featc list");
            };
            let item = ty.item.data_type();
            let Some(v) = args.get(1) else {
                return exec_err!("featc contains: one argument");
            };
            let Some(values) = Cells::new(v, item) else {
                return exec_err!("featc contains: the value is not a {}", item.name());
            };
            let out: BooleanArray = (0..xs.len())
                .map(|r| {
                    if xs.is_null(r) || values.is_null(r) {
                        return None;
                    }
                    let list = xs.value(r);
                    let cells = Cells::new(&list, item)?;
                    let items: Vec<Value> = (0..list.len()).map(|i| cells.get(i)).collect();
                    list_contains(&items, &values.get(r))
                })
                .collect();
            Arc::new(out)
        }
        other => return exec_err!("featc: {} is not a list function", other.name()),
    })
}

/// Whether `t` is a list type (for the lowering's dispatch).
pub(super) fn is_list(t: DataType) -> bool {
    matches!(t, DataType::List(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_at_counts_from_one_and_from_the_end() {
        assert_eq!(element_index(3, 1), Some(0));
        assert_eq!(element_index(3, 3), Some(2));
        assert_eq!(element_index(3, 4), None);
        assert_eq!(element_index(3, 0), None);
        assert_eq!(element_index(3, -1), Some(2));
        assert_eq!(element_index(3, -3), Some(0));
        assert_eq!(element_index(3, -4), None);
        assert_eq!(element_index(0, 1), None);
        assert_eq!(element_index(3, i64::MIN), None);
        assert_eq!(element_index(3, i64::MAX), None);
    }

    #[test]
    fn contains_follows_sql_nulls() {
        let items = [Value::Float64(-0.0), Value::Null, Value::Float64(f64::NAN)];
        assert_eq!(list_contains(&items, &Value::Float64(0.0)), Some(true));
        assert_eq!(list_contains(&items, &Value::Float64(f64::NAN)), Some(true));
        assert_eq!(list_contains(&items, &Value::Float64(1.0)), None);
        assert_eq!(
            list_contains(&items[..1], &Value::Float64(1.0)),
            Some(false)
        );
        assert_eq!(list_contains(&[], &Value::Float64(1.0)), Some(false));
    }
}
