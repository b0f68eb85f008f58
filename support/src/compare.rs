//! Two tables compared: with float tolerance (a path against an expected result
//! computed elsewhere), or bit for bit (two featc paths that must agree exactly).

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::record_batch::RecordBatch;

/// Compares two tables column by column (same names and order): floats with
/// relative tolerance 1e-9 (absolute near zero), everything else exactly. Returns the
/// first difference.
pub fn compare_tolerant(actual: &RecordBatch, expected: &RecordBatch) -> Result<(), String> {
    let names = |b: &RecordBatch| -> Vec<String> {
        b.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    };
    if names(actual) != names(expected) {
        return Err(format!(
            "columns differ:\n  actual   {:?}\n  expected {:?}",
            names(actual),
            names(expected)
        ));
    }
    if actual.num_rows() != expected.num_rows() {
        return Err(format!(
            "{} rows, expected {}",
            actual.num_rows(),
            expected.num_rows()
        ));
    }
    for (i, name) in names(expected).iter().enumerate() {
        let (a, e) = (actual.column(i), expected.column(i));
        compare_column(name, a, e)?;
    }
    Ok(())
}

fn compare_column(name: &str, a: &ArrayRef, e: &ArrayRef) -> Result<(), String> {
    if e.data_type() == &DataType::Float64 && a.data_type() == &DataType::Float64 {
        let (a, e) = (
            a.as_primitive::<Float64Type>(),
            e.as_primitive::<Float64Type>(),
        );
        for r in 0..e.len() {
            match (a.is_valid(r), e.is_valid(r)) {
                (false, false) => {}
                (true, true) => {
                    let (x, y) = (a.value(r), e.value(r));
                    // An infinity is equal only to itself (the relative test would
                    // accept any finite value beside it: inf <= 1e-9 * inf).
                    let ok = x == y
                        || (x.is_nan() && y.is_nan())
                        || (x.is_finite()
                            && y.is_finite()
                            && (x - y).abs() <= 1e-9 * y.abs().max(1.0));
                    if !ok {
                        return Err(format!("{name} row {r}: {x:?}, expected {y:?}"));
                    }
                }
                (va, ve) => {
                    return Err(format!(
                        "{name} row {r}: {}, expected {}",
                        show_float(a, r, va),
                        show_float(e, r, ve)
                    ))
                }
            }
        }
        return Ok(());
    }
    let a = datafusion::arrow::compute::cast(a, e.data_type()).map_err(|x| x.to_string())?;
    for r in 0..e.len() {
        let (x, y) = (display(&a, r), display(e, r));
        if x != y {
            return Err(format!("{name} row {r}: {x}, expected {y}"));
        }
    }
    Ok(())
}

fn show_float(a: &datafusion::arrow::array::Float64Array, r: usize, valid: bool) -> String {
    if valid {
        format!("{:?}", a.value(r))
    } else {
        "null".to_string()
    }
}

fn display(a: &ArrayRef, r: usize) -> String {
    if a.is_null(r) {
        "null".to_string()
    } else {
        datafusion::arrow::util::display::array_value_to_string(a, r).unwrap_or_default()
    }
}

/// Same column names, types, nulls and values; floats compared by their bits.
pub fn bit_equal(actual: &RecordBatch, expected: &RecordBatch) -> Result<(), String> {
    if actual.num_rows() != expected.num_rows() {
        return Err(format!(
            "{} rows, expected {}",
            actual.num_rows(),
            expected.num_rows()
        ));
    }
    let (sa, se) = (actual.schema(), expected.schema());
    let names = |s: &datafusion::arrow::datatypes::Schema| -> Vec<String> {
        s.fields().iter().map(|f| f.name().clone()).collect()
    };
    if names(&sa) != names(&se) {
        return Err(format!(
            "columns {:?}, expected {:?}",
            names(&sa),
            names(&se)
        ));
    }
    for (i, f) in se.fields().iter().enumerate() {
        column_bits(f.name(), actual.column(i), expected.column(i))?;
    }
    Ok(())
}

fn column_bits(name: &str, a: &ArrayRef, e: &ArrayRef) -> Result<(), String> {
    if a.data_type() != e.data_type() {
        return Err(format!(
            "{name}: type {}, expected {}",
            a.data_type(),
            e.data_type()
        ));
    }
    for r in 0..e.len() {
        if !same_bits(a, e, r) {
            return Err(format!(
                "{name} row {r}: {}, expected {}",
                show_cell(a, r),
                show_cell(e, r)
            ));
        }
    }
    Ok(())
}

/// Row `r` of two columns of one type: both null, or the same value (floats by
/// their bits).
pub fn same_bits(a: &ArrayRef, e: &ArrayRef, r: usize) -> bool {
    match (a.is_valid(r), e.is_valid(r)) {
        (false, false) => true,
        (true, true) if e.data_type() == &DataType::Float64 => {
            let (x, y) = (
                a.as_primitive::<Float64Type>().value(r),
                e.as_primitive::<Float64Type>().value(r),
            );
            x.to_bits() == y.to_bits()
        }
        (true, true) => a.slice(r, 1) == e.slice(r, 1),
        _ => false,
    }
}

/// Row `r` of a column as a message shows it.
pub fn show_cell(a: &ArrayRef, r: usize) -> String {
    if a.is_null(r) {
        "null".into()
    } else {
        datafusion::arrow::util::display::array_value_to_string(a, r).unwrap_or_default()
    }
}
