//! One cell against another, bit for bit (a float is its bits: `-0.0` is not `0.0`,
//! a NaN equals only the same NaN), and a cell as text for reports.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use datafusion::arrow::util::display::array_value_to_string;

/// Whether row `i` of `a` and row `j` of `b` hold the same value, bit for bit.
pub fn same(a: &dyn Array, i: usize, b: &dyn Array, j: usize) -> bool {
    match (a.is_null(i), b.is_null(j)) {
        (true, true) => return true,
        (false, false) => {}
        _ => return false,
    }
    if a.data_type() != b.data_type() {
        return false;
    }
    match a.data_type() {
        DataType::Int64 => {
            a.as_primitive::<Int64Type>().value(i) == b.as_primitive::<Int64Type>().value(j)
        }
        DataType::Float64 => {
            a.as_primitive::<Float64Type>().value(i).to_bits()
                == b.as_primitive::<Float64Type>().value(j).to_bits()
        }
        DataType::Boolean => a.as_boolean().value(i) == b.as_boolean().value(j),
        DataType::Utf8 => a.as_string::<i32>().value(i) == b.as_string::<i32>().value(j),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            a.as_primitive::<TimestampMicrosecondType>().value(i)
                == b.as_primitive::<TimestampMicrosecondType>().value(j)
        }
        // Lists, decimals, dates: Arrow's equality of the two one-row slices compares
        // their value buffers byte by byte.
        _ => a.slice(i, 1).to_data() == b.slice(j, 1).to_data(),
    }
}

/// Row `i` of `a` as text (`null` for a null).
pub fn text(a: &dyn Array, i: usize) -> String {
    if a.is_null(i) {
        return "null".to_string();
    }
    if let DataType::Float64 = a.data_type() {
        // Every bit shown: Rust prints the shortest text that reads back the same.
        return format!("{:?}", a.as_primitive::<Float64Type>().value(i));
    }
    array_value_to_string(a, i).unwrap_or_else(|e| format!("<{e}>"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, ListArray, StringArray};
    use datafusion::arrow::datatypes::Float64Type as F;

    #[test]
    fn floats_compare_by_their_bits() {
        let a = Float64Array::from(vec![Some(0.0), Some(f64::NAN), None, Some(0.1 + 0.2)]);
        let b = Float64Array::from(vec![Some(-0.0), Some(f64::NAN), None, Some(0.3)]);
        assert!(!same(&a, 0, &b, 0), "-0.0 is not 0.0");
        assert!(same(&a, 1, &b, 1), "the same NaN");
        assert!(same(&a, 2, &b, 2), "two nulls");
        assert!(!same(&a, 3, &b, 3), "one ulp apart");
        assert!(!same(&a, 2, &b, 3), "a null and a value");
        assert_eq!(text(&a, 3), "0.30000000000000004");
        assert_eq!(text(&a, 2), "null");
    }

    #[test]
    fn lists_and_strings_compare_whole() {
        let a = ListArray::from_iter_primitive::<F, _, _>(vec![
            Some(vec![Some(1.0), None]),
            Some(vec![Some(1.0)]),
        ]);
        let b = ListArray::from_iter_primitive::<F, _, _>(vec![
            Some(vec![Some(1.0)]),
            Some(vec![Some(1.0), None]),
        ]);
        assert!(same(&a, 0, &b, 1));
        assert!(same(&a, 1, &b, 0));
        assert!(!same(&a, 0, &b, 0));
        let s = StringArray::from(vec!["x", "y"]);
        assert!(same(&s, 0, &s, 0) && !same(&s, 0, &s, 1));
    }
}
