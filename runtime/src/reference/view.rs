//! One view's input rows, prepared per row: the entity key, the lets, the view's
//! `where`, and for each requested feature its own `where` and argument.
//!
//! Every step is a per-row transform (semantics.md "Row transforms"), so evaluating it
//! once per event gives the same values as re-evaluating it for each spine row; the
//! windowing and folding, which depend on `t`, stay per spine row in `mod.rs`.
//! Every expression the requested features use (the lets they read, the view's
//! `where`, each feature's `where` and argument) is evaluated on every row of the
//! source, so an overflow on any event is an error whatever the filters and keys then
//! do with the row (semantics.md, "Errors while computing"); then a null key part
//! drops the row (counted), the view's `where` drops rows, and each feature keeps the
//! rows its own `where` passes.

use std::collections::HashMap;

use super::error::ReferenceError;
use super::eval::eval;
use super::table::Table;
use super::value::{key_of, KeyPart, RValue};
use super::EvalError;
use crate::ir::{Expr, Feature, View};

/// A row of the view's input that has a key and passed the view's `where`.
pub struct InputRow {
    pub ts: i64,
    /// Per requested feature: `None` when the feature's `where` drops the row,
    /// otherwise the aggregated value (`Bool(true)` for `count(*)`).
    pub values: Vec<Option<RValue>>,
}

/// The view's input, grouped by entity key (each group in source order).
pub struct PreparedView {
    pub by_key: HashMap<Vec<KeyPart>, Vec<InputRow>>,
    /// Rows dropped because a key column was null (semantics.md: counted, reported).
    pub null_keys: usize,
}

impl PreparedView {
    /// Adds another source's rows of the same view (a view over several sources).
    pub fn absorb(&mut self, other: PreparedView) {
        for (key, rows) in other.by_key {
            self.by_key.entry(key).or_default().extend(rows);
        }
        self.null_keys += other.null_keys;
    }
}

/// Is the value of a `where` true? False and null both drop the row.
fn is_true(v: &RValue) -> bool {
    matches!(v, RValue::Bool(true))
}

/// Prepares `view` over `table` for the features `features` (indices into
/// `view.features`).
pub fn prepare_view(
    view: &View,
    source_name: &str,
    table: &Table,
    features: &[usize],
) -> Result<PreparedView, ReferenceError> {
    let mut by_key: HashMap<Vec<KeyPart>, Vec<InputRow>> = HashMap::new();
    let mut null_keys = 0;
    let lets = lets_used(view, features);
    // Every row is evaluated even after one fails: the run names the earliest
    // failing event by time (then by row), semantics.md "Errors while computing".
    let mut failed: Option<(Option<i64>, usize, ReferenceError)> = None;
    for row in 0..table.len() {
        let EvaluatedRow {
            parts,
            keep,
            values,
        } = match evaluate_row(view, source_name, table, row, features, &lets) {
            Ok(evaluated) => evaluated,
            Err(error) => {
                let at = table.times.get(row).copied();
                let place = (at.unwrap_or(i64::MAX), row);
                if failed
                    .as_ref()
                    .is_none_or(|(a, r, _)| place < (a.unwrap_or(i64::MAX), *r))
                {
                    failed = Some((at, row, error));
                }
                continue;
            }
        };
        if failed.is_some() {
            continue;
        }
        let Some(key) = key_of(&parts) else {
            null_keys += 1;
            continue;
        };
        if keep {
            by_key.entry(key).or_default().push(InputRow {
                ts: table.times[row],
                values,
            });
        }
    }
    if let Some((_, _, error)) = failed {
        return Err(error);
    }
    Ok(PreparedView { by_key, null_keys })
}

/// One row evaluated: its key parts, whether the view's `where` keeps it, and each
/// feature's value (None where the feature's `where` drops it).
struct EvaluatedRow {
    parts: Vec<RValue>,
    keep: bool,
    values: Vec<Option<RValue>>,
}

fn evaluate_row(
    view: &View,
    source_name: &str,
    table: &Table,
    row: usize,
    features: &[usize],
    lets: &[&crate::ir::Let],
) -> Result<EvaluatedRow, ReferenceError> {
    let mut parts = Vec::with_capacity(view.key_columns.len());
    for column in &view.key_columns {
        parts.push(
            table
                .cell(column, row)
                .map_err(|m| row_error(source_name, table, row, "key", m))?,
        );
    }
    let mut values_of_lets: HashMap<String, RValue> = HashMap::new();
    for l in lets {
        let value = eval_row(&l.expr, table, row, &values_of_lets)
            .map_err(|m| row_error(source_name, table, row, &format!("let {}", l.name), m))?;
        values_of_lets.insert(l.name.clone(), value);
    }
    let keep = match &view.filter {
        Some(filter) => is_true(
            &eval_row(filter, table, row, &values_of_lets)
                .map_err(|m| row_error(source_name, table, row, "view where", m))?,
        ),
        None => true,
    };
    let mut values = Vec::with_capacity(features.len());
    for &f in features {
        let feature = &view.features[f];
        values.push(
            feature_value(feature, table, row, &values_of_lets).map_err(|m| {
                row_error(
                    source_name,
                    table,
                    row,
                    &format!("feature {}", feature.name),
                    m,
                )
            })?,
        );
    }
    Ok(EvaluatedRow {
        parts,
        keep,
        values,
    })
}

fn feature_value(
    feature: &Feature,
    table: &Table,
    row: usize,
    lets: &HashMap<String, RValue>,
) -> Result<Option<RValue>, EvalError> {
    let Some(agg) = feature.aggregate() else {
        return Ok(None);
    };
    // Both are evaluated on every row (an overflow in either is an error), then
    // the feature's `where` decides.
    let pass = match &agg.filter {
        Some(filter) => is_true(&eval_row(filter, table, row, lets)?),
        None => true,
    };
    let value = match &agg.arg {
        None => RValue::Bool(true),
        Some(arg) => eval_row(arg, table, row, lets)?,
    };
    Ok(pass.then_some(value))
}

/// The lets the view's `where` and the features read, transitively, in declaration
/// order: only those are evaluated (the executors inline exactly these).
fn lets_used<'v>(view: &'v View, features: &[usize]) -> Vec<&'v crate::ir::Let> {
    let names = view.names_read(features);
    view.lets
        .iter()
        .filter(|l| names.contains(&l.name))
        .collect()
}

/// Evaluates `expr` on `row`, where a name is an earlier let or else a source column.
fn eval_row(
    expr: &Expr,
    table: &Table,
    row: usize,
    lets: &HashMap<String, RValue>,
) -> Result<RValue, EvalError> {
    let lookup = |name: &str| match lets.get(name) {
        Some(v) => Ok(v.clone()),
        None => table.cell(name, row),
    };
    eval(expr, &lookup)
}

fn row_error(
    source: &str,
    table: &Table,
    row: usize,
    context: &str,
    message: EvalError,
) -> ReferenceError {
    ReferenceError::Eval {
        source: source.to_string(),
        row,
        at: table.times.get(row).copied(),
        context: context.to_string(),
        message,
    }
}
