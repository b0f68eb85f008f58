//! Cell-by-cell comparison of the paths' tables with the reference's: bit for bit
//! (floats by their bits, so `-0.0` is not `0.0` and NaN equals NaN), or within a
//! tolerance for a path that is not exact by design (the emitted SQL's floats).

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// How a path's cells must match the reference's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// The same bits (featc's own paths: semantics.md makes them exact).
    Bits,
    /// Floats within this relative difference (absolute below 1), an infinity only
    /// equal to itself, NaN equal to NaN; everything else the same bits.
    Relative(f64),
}

/// One cell where at least one path differs from the reference.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Disagreement {
    /// The spine row (0-based, in the dataset's spine order).
    pub row: usize,
    /// The spine's entity key columns and their values at that row.
    pub entity: Vec<(String, String)>,
    /// The spine row's time.
    pub time: String,
    pub feature: String,
    /// Every path's value, the reference first; `differs` marks those that differ.
    pub values: Vec<PathValue>,
}

/// A path's value of one cell.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PathValue {
    pub path: String,
    pub value: String,
    pub differs: bool,
}

/// A path's answer, checked to have the reference's columns.
pub struct Answer<'a> {
    pub path: &'a str,
    pub table: &'a RecordBatch,
    pub tolerance: Tolerance,
}

/// Checks that `actual` has the reference's rows, column names and types.
pub fn same_shape(expected: &RecordBatch, actual: &RecordBatch) -> Result<(), String> {
    if actual.num_rows() != expected.num_rows() {
        return Err(format!(
            "{} rows where the reference has {}",
            actual.num_rows(),
            expected.num_rows()
        ));
    }
    let columns = |b: &RecordBatch| -> Vec<(String, DataType)> {
        b.schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect()
    };
    let (e, a) = (columns(expected), columns(actual));
    if e != a {
        return Err(format!(
            "columns {} where the reference has {}",
            describe(&a),
            describe(&e)
        ));
    }
    Ok(())
}

fn describe(columns: &[(String, DataType)]) -> String {
    let parts: Vec<String> = columns.iter().map(|(n, t)| format!("{n}: {t}")).collect();
    format!("({})", parts.join(", "))
}

/// Every cell of the `features` columns where an answer differs from `expected`,
/// in (row, feature) order, at most `limit` of them, and how many there are in all.
/// `keys` are the spine columns that name the entity; `time` the spine's time column.
pub fn disagreements(
    features: &[&str],
    keys: &[String],
    time: &str,
    expected: &RecordBatch,
    answers: &[Answer<'_>],
    limit: usize,
) -> Result<(Vec<Disagreement>, usize), String> {
    let column = |b: &RecordBatch, name: &str| -> Result<ArrayRef, String> {
        b.column_by_name(name)
            .cloned()
            .ok_or_else(|| format!("the table has no column `{name}`"))
    };
    let feature_columns = |b: &RecordBatch| -> Result<Vec<ArrayRef>, String> {
        features.iter().map(|f| column(b, f)).collect()
    };
    let expected_columns = feature_columns(expected)?;
    let answer_columns = answers
        .iter()
        .map(|a| feature_columns(a.table))
        .collect::<Result<Vec<_>, _>>()?;
    let mut shown = Vec::new();
    let mut total = 0;
    for row in 0..expected.num_rows() {
        for (f, feature) in features.iter().enumerate() {
            let e = &expected_columns[f];
            let differs: Vec<bool> = answers
                .iter()
                .zip(&answer_columns)
                .map(|(a, columns)| !same_cell(e, &columns[f], row, a.tolerance))
                .collect();
            if !differs.contains(&true) {
                continue;
            }
            total += 1;
            if shown.len() >= limit {
                continue;
            }
            let mut values = vec![PathValue {
                path: "reference".into(),
                value: cell_text(e, row),
                differs: false,
            }];
            for ((a, columns), differs) in answers.iter().zip(&answer_columns).zip(differs) {
                values.push(PathValue {
                    path: a.path.to_string(),
                    value: cell_text(&columns[f], row),
                    differs,
                });
            }
            let entity = keys
                .iter()
                .map(|k| Ok((k.clone(), cell_text(&column(expected, k)?, row))))
                .collect::<Result<Vec<_>, String>>()?;
            shown.push(Disagreement {
                row,
                entity,
                time: cell_text(&column(expected, time)?, row),
                feature: feature.to_string(),
                values,
            });
        }
    }
    Ok((shown, total))
}

/// Whether row `r` of `a` and `b` holds the same value under `tolerance`.
pub fn same_cell(a: &ArrayRef, b: &ArrayRef, r: usize, tolerance: Tolerance) -> bool {
    if a.data_type() != b.data_type() || a.is_valid(r) != b.is_valid(r) {
        return false;
    }
    if a.is_null(r) {
        return true;
    }
    if let (Tolerance::Relative(rel), DataType::Float64) = (tolerance, a.data_type()) {
        let (x, y) = (
            a.as_primitive::<Float64Type>().value(r),
            b.as_primitive::<Float64Type>().value(r),
        );
        return x == y
            || (x.is_nan() && y.is_nan())
            || (x.is_finite() && y.is_finite() && (x - y).abs() <= rel * y.abs().max(1.0));
    }
    // Arrow's equality compares values as bytes: bit for bit, lists included.
    a.slice(r, 1).to_data() == b.slice(r, 1).to_data()
}

/// A cell as text for a report: Arrow's display, with a float's bits added where the
/// display would hide them (a NaN's payload).
pub fn cell_text(column: &ArrayRef, r: usize) -> String {
    if column.is_null(r) {
        return "null".into();
    }
    if let DataType::Float64 = column.data_type() {
        let v = column.as_primitive::<Float64Type>().value(r);
        return if v.is_nan() && v.to_bits() != f64::NAN.to_bits() {
            format!("NaN (bits {:#018x})", v.to_bits())
        } else {
            format!("{v:?}")
        };
    }
    let options = FormatOptions::default().with_null("null");
    match ArrayFormatter::try_new(column.as_ref(), &options) {
        Ok(formatter) => formatter.value(r).to_string(),
        Err(_) => format!("<{}>", column.data_type()),
    }
}
