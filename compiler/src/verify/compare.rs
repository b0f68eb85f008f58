//! Cell-by-cell comparison of the paths' tables with the reference's: bit for bit
//! (floats by their bits, so `-0.0` is not `0.0` and NaN equals NaN), or within a
//! tolerance for a path that is not exact by design (the emitted SQL's floats).

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use std::collections::HashMap;

use super::float_bound::within;
use crate::ir::AggKind;

/// How a path's cells must match the reference's.
#[derive(Debug, Clone, PartialEq)]
pub enum Tolerance {
    /// The same bits (featc's own paths: semantics.md makes them exact).
    Bits,
    /// Floats within `relative` (absolute below 1), an infinity only equal to itself,
    /// NaN equal to NaN; the float folds in `windows` within docs/scale-out.md's bound
    /// of their window; everything else the same bits.
    Folds {
        relative: f64,
        windows: HashMap<String, FoldWindows>,
    },
}

/// A float fold's windows, per spine row: what its bound is computed from
/// (`float_bound::within`).
#[derive(Debug, Clone, PartialEq)]
pub struct FoldWindows {
    pub agg: AggKind,
    pub count: Vec<f64>,
    pub abs_sum: Vec<f64>,
    pub square_sum: Vec<f64>,
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

/// A path's answer, checked to have the reference's columns (but those it skips).
pub struct Answer<'a> {
    pub path: &'a str,
    pub table: &'a RecordBatch,
    pub tolerance: &'a Tolerance,
    /// Features it does not compute.
    pub skipped: Vec<&'a str>,
}

/// Checks that `actual` has the reference's rows, column names and types, but for
/// the columns of `skipped` features.
pub fn same_shape(
    expected: &RecordBatch,
    actual: &RecordBatch,
    skipped: &[&str],
) -> Result<(), String> {
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
    let mut e = columns(expected);
    e.retain(|(name, _)| !skipped.contains(&name.as_str()));
    let a = columns(actual);
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
    let expected_columns = features
        .iter()
        .map(|f| column(expected, f))
        .collect::<Result<Vec<_>, _>>()?;
    // A skipped feature's column is None: never compared.
    let answer_columns = answers
        .iter()
        .map(|a| {
            features
                .iter()
                .map(|f| {
                    if a.skipped.contains(f) {
                        Ok(None)
                    } else {
                        column(a.table, f).map(Some)
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut shown = Vec::new();
    let mut total = 0;
    for row in 0..expected.num_rows() {
        for (f, feature) in features.iter().enumerate() {
            let e = &expected_columns[f];
            let differs: Vec<bool> = answers
                .iter()
                .zip(&answer_columns)
                .map(|(a, columns)| match &columns[f] {
                    Some(c) => !same_cell(c, e, row, a.tolerance, feature),
                    None => false,
                })
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
                    value: match &columns[f] {
                        Some(c) => cell_text(c, row),
                        None => "(not computed)".into(),
                    },
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

/// Whether row `r` of `a` (a path's column of `feature`) holds the reference's value
/// in `b` under `tolerance`.
pub fn same_cell(
    a: &ArrayRef,
    b: &ArrayRef,
    r: usize,
    tolerance: &Tolerance,
    feature: &str,
) -> bool {
    if a.data_type() != b.data_type() || a.is_valid(r) != b.is_valid(r) {
        return false;
    }
    if a.is_null(r) {
        return true;
    }
    if let (Tolerance::Folds { relative, windows }, DataType::Float64) = (tolerance, a.data_type())
    {
        let (x, y) = (
            a.as_primitive::<Float64Type>().value(r),
            b.as_primitive::<Float64Type>().value(r),
        );
        if let Some(w) = windows.get(feature) {
            let at = |v: &[f64]| v.get(r).copied().unwrap_or(0.0);
            return within(w.agg, x, y, at(&w.count), at(&w.abs_sum), at(&w.square_sum));
        }
        return x == y
            || (x.is_nan() && y.is_nan())
            || (x.is_finite() && y.is_finite() && (x - y).abs() <= relative * y.abs().max(1.0));
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
