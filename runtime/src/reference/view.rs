//! One view's input rows, prepared per row: the entity key, the lets, the view's
//! `where`, and for each requested feature its own `where` and argument.
//!
//! Every step is a per-row transform (semantics.md "Row transforms"), so evaluating it
//! once per event gives the same values as re-evaluating it for each spine row; the
//! windowing and folding, which depend on `t`, stay per spine row in `mod.rs`.
//! Order of evaluation for one row: key (a null part drops the row, counted), lets in
//! declaration order, the view's `where`, then per feature its `where` and, for rows
//! it keeps, its argument.

use std::collections::HashMap;

use super::error::ReferenceError;
use super::eval::eval;
use super::table::Table;
use super::value::{key_of, KeyPart, RValue};
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
    for row in 0..table.len() {
        let mut parts = Vec::with_capacity(view.key_columns.len());
        for column in &view.key_columns {
            parts.push(
                table
                    .cell(column, row)
                    .map_err(|m| row_error(source_name, row, "key", m))?,
            );
        }
        let Some(key) = key_of(&parts) else {
            null_keys += 1;
            continue;
        };
        let mut lets: HashMap<String, RValue> = HashMap::new();
        for l in &view.lets {
            let value = eval_row(&l.expr, table, row, &lets)
                .map_err(|m| row_error(source_name, row, &format!("let {}", l.name), m))?;
            lets.insert(l.name.clone(), value);
        }
        if let Some(filter) = &view.filter {
            let keep = eval_row(filter, table, row, &lets)
                .map_err(|m| row_error(source_name, row, "view where", m))?;
            if !is_true(&keep) {
                continue;
            }
        }
        let mut values = Vec::with_capacity(features.len());
        for &f in features {
            let feature = &view.features[f];
            values.push(feature_value(feature, table, row, &lets).map_err(|m| {
                row_error(source_name, row, &format!("feature {}", feature.name), m)
            })?);
        }
        by_key.entry(key).or_default().push(InputRow {
            ts: table.times[row],
            values,
        });
    }
    Ok(PreparedView { by_key, null_keys })
}

fn feature_value(
    feature: &Feature,
    table: &Table,
    row: usize,
    lets: &HashMap<String, RValue>,
) -> Result<Option<RValue>, String> {
    let Some(agg) = feature.aggregate() else {
        return Ok(None);
    };
    if let Some(filter) = &agg.filter {
        if !is_true(&eval_row(filter, table, row, lets)?) {
            return Ok(None);
        }
    }
    match &agg.arg {
        None => Ok(Some(RValue::Bool(true))),
        Some(arg) => eval_row(arg, table, row, lets).map(Some),
    }
}

/// Evaluates `expr` on `row`, where a name is an earlier let or else a source column.
fn eval_row(
    expr: &Expr,
    table: &Table,
    row: usize,
    lets: &HashMap<String, RValue>,
) -> Result<RValue, String> {
    let lookup = |name: &str| match lets.get(name) {
        Some(v) => Ok(v.clone()),
        None => table.cell(name, row),
    };
    eval(expr, &lookup)
}

fn row_error(source: &str, row: usize, context: &str, message: String) -> ReferenceError {
    ReferenceError::Eval {
        source: source.to_string(),
        row,
        context: context.to_string(),
        message,
    }
}
