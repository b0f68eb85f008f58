//! Struct and map paths (`ir::ColumnPath`) read the naive way, from docs/semantics.md
//! ("Struct and map columns") alone: row by row, each step taken on the one cell, with
//! no code shared with the executors' extraction (`row::nested_column`).
//!
//! A null struct or map gives null below it; a missing key gives null; of repeated
//! keys the last entry counts, and a size counts distinct keys; more than 65 536
//! entries is a bad value. JSON text (a CSV cell) is read by its own small walk, each
//! leaf given back as the text a CSV cell would hold.

use std::sync::Arc;

use datafusion::arrow::array::{
    new_empty_array, new_null_array, Array, ArrayRef, AsArray, BooleanArray, Float64Array,
    Int64Array, StringArray,
};
use datafusion::arrow::compute::{cast, concat};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::Value as Json;

use super::error::ReferenceError;
use super::output::arrow_type;
use crate::ir::{ColumnPath, DataType, PathStep};

/// The documented cap of a map's entries.
const MAP_CAP: usize = 65_536;

/// `batches` with the one column `name`: the path's values, row by row.
pub fn path_batches(
    table: &str,
    name: &str,
    path: &ColumnPath,
    ty: DataType,
    batches: &[RecordBatch],
) -> Result<Vec<RecordBatch>, ReferenceError> {
    let mut out = Vec::with_capacity(batches.len());
    let mut offset = 0;
    for batch in batches {
        let physical =
            batch
                .column_by_name(&path.physical)
                .ok_or_else(|| ReferenceError::MissingColumn {
                    table: table.to_string(),
                    column: path.physical.clone(),
                })?;
        let bad = |row: usize, message: String| ReferenceError::BadPath {
            table: table.to_string(),
            column: name.to_string(),
            row: offset + row,
            message,
        };
        let mut cells: Vec<ArrayRef> = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            cells.push(cell(physical, row, &path.steps).map_err(|m| bad(row, m))?);
        }
        let mut values = match cells.is_empty() {
            // No row to take a type from: the path's declared one (a source with no
            // events still has its columns).
            true => new_empty_array(&arrow_type(ty)),
            false => {
                let refs: Vec<&dyn Array> = cells.iter().map(|c| c.as_ref()).collect();
                concat(&refs).map_err(|e| bad(0, e.to_string()))?
            }
        };
        if is_text(physical.data_type()) && values.data_type() == &ArrowType::Utf8 {
            values = typed_text(&values, ty).map_err(|(row, m)| bad(row, m))?;
        }
        let schema = Schema::new(vec![Field::new(name, values.data_type().clone(), true)]);
        out.push(
            RecordBatch::try_new(Arc::new(schema), vec![values])
                .map_err(|e| bad(0, e.to_string()))?,
        );
        offset += batch.num_rows();
    }
    Ok(out)
}

/// The path's value at `row` of `array`, as a one-row array.
fn cell(array: &ArrayRef, row: usize, steps: &[PathStep]) -> Result<ArrayRef, String> {
    let Some((step, rest)) = steps.split_first() else {
        return Ok(array.slice(row, 1));
    };
    if is_text(array.data_type()) {
        return json_cell(array, row, steps);
    }
    match (step, array.data_type()) {
        (PathStep::Field(name), ArrowType::Struct(_)) => {
            let s = array.as_struct();
            let child = s
                .column_by_name(name)
                .ok_or_else(|| format!("no field `{name}`"))?;
            if s.is_null(row) {
                // Null below a null struct, whatever its child holds.
                return Ok(new_null_array(&leaf_type(child.data_type(), rest), 1));
            }
            cell(child, row, rest)
        }
        (_, ArrowType::Map(_, _)) => {
            let m = array.as_map();
            let entries_type = m.values().data_type().clone();
            let out_type = match step {
                PathStep::Size => ArrowType::Int64,
                PathStep::HasKey(_) => ArrowType::Boolean,
                _ => entries_type,
            };
            if m.is_null(row) {
                return Ok(new_null_array(&out_type, 1));
            }
            let entries = m.value(row);
            if entries.len() > MAP_CAP {
                return Err(format!(
                    "a map of {} entries, more than {MAP_CAP}",
                    entries.len()
                ));
            }
            let keys = cast(entries.column(0), &ArrowType::Utf8).map_err(|e| e.to_string())?;
            let keys = keys.as_string::<i32>();
            let values = entries.column(1);
            let mut last = None;
            let mut distinct: Vec<&str> = Vec::new();
            for i in 0..keys.len() {
                let k = keys.value(i);
                if !distinct.contains(&k) {
                    distinct.push(k);
                }
                if matches!(step, PathStep::Key(want) | PathStep::HasKey(want) if want == k) {
                    last = Some(i);
                }
            }
            Ok(match step {
                PathStep::Size => Arc::new(Int64Array::from(vec![distinct.len() as i64])),
                PathStep::HasKey(_) => Arc::new(BooleanArray::from(vec![last.is_some()])),
                _ => match last {
                    Some(i) => values.slice(i, 1),
                    None => new_null_array(values.data_type(), 1),
                },
            })
        }
        (_, other) => Err(format!("cannot take {step:?} of a column of {other}")),
    }
}

/// The type a struct field's path ends at (for the nulls under a null struct).
fn leaf_type(ty: &ArrowType, steps: &[PathStep]) -> ArrowType {
    let Some((step, rest)) = steps.split_first() else {
        return ty.clone();
    };
    match (step, ty) {
        (PathStep::Field(name), ArrowType::Struct(fields)) => fields
            .iter()
            .find(|f| f.name() == name)
            .map_or(ArrowType::Null, |f| leaf_type(f.data_type(), rest)),
        (PathStep::Size, _) => ArrowType::Int64,
        (PathStep::HasKey(_), _) => ArrowType::Boolean,
        (PathStep::Key(_), ArrowType::Map(entries, _)) => match entries.data_type() {
            ArrowType::Struct(kv) => kv.get(1).map_or(ArrowType::Null, |f| f.data_type().clone()),
            _ => ArrowType::Null,
        },
        _ => ArrowType::Null,
    }
}

/// JSON text: the leaf's text (a string as itself, other values as JSON), or null.
fn json_cell(array: &ArrayRef, row: usize, steps: &[PathStep]) -> Result<ArrayRef, String> {
    let text = cast(array, &ArrowType::Utf8).map_err(|e| e.to_string())?;
    let text = text.as_string::<i32>();
    let null = || -> ArrayRef { Arc::new(StringArray::from(vec![None::<&str>])) };
    if text.is_null(row) || text.value(row).trim().is_empty() {
        return Ok(null());
    }
    let mut value: Json =
        serde_json::from_str(text.value(row)).map_err(|e| format!("not JSON: {e}"))?;
    for step in steps {
        let Json::Object(object) = value else {
            return match value {
                Json::Null => Ok(null()),
                _ => Err("expected an object".to_string()),
            };
        };
        if !matches!(step, PathStep::Field(_)) && object.len() > MAP_CAP {
            return Err(format!(
                "a map of {} entries, more than {MAP_CAP}",
                object.len()
            ));
        }
        value = match step {
            PathStep::Field(k) | PathStep::Key(k) => object.get(k).cloned().unwrap_or(Json::Null),
            PathStep::Size => Json::from(object.len()),
            PathStep::HasKey(k) => Json::Bool(object.contains_key(k)),
        };
    }
    Ok(match value {
        Json::Null => null(),
        Json::String(s) => Arc::new(StringArray::from(vec![s])),
        other => Arc::new(StringArray::from(vec![other.to_string()])),
    })
}

fn is_text(ty: &ArrowType) -> bool {
    matches!(
        ty,
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
    )
}

/// Leaves of JSON text read as a CSV cell of `ty` is (semantics.md, "CSV"): an
/// int64 or a float64 as the number written, a bool as one of `true`, `t`, `1`,
/// `false`, `f`, `0` in any case; text that is none of these is a bad value. Other
/// types keep their text (the column readers take text for them).
fn typed_text(text: &ArrayRef, ty: DataType) -> Result<ArrayRef, (usize, String)> {
    let text = text.as_string::<i32>();
    let bad = |row: usize, cell: &str| (row, format!("{cell:?} is not a {}", ty.name()));
    let cells = text.iter().enumerate();
    Ok(match ty {
        DataType::Int64 => Arc::new(
            cells
                .map(|(row, c)| {
                    c.map(|c| c.parse::<i64>().map_err(|_| bad(row, c)))
                        .transpose()
                })
                .collect::<Result<Int64Array, _>>()?,
        ),
        DataType::Float64 => Arc::new(
            cells
                .map(|(row, c)| {
                    c.map(|c| c.parse::<f64>().map_err(|_| bad(row, c)))
                        .transpose()
                })
                .collect::<Result<Float64Array, _>>()?,
        ),
        DataType::Bool => Arc::new(
            cells
                .map(|(row, c)| {
                    c.map(|c| match c.to_ascii_lowercase().as_str() {
                        "true" | "t" | "1" => Ok(true),
                        "false" | "f" | "0" => Ok(false),
                        _ => Err(bad(row, c)),
                    })
                    .transpose()
                })
                .collect::<Result<BooleanArray, _>>()?,
        ),
        _ => return Ok(Arc::new(text.clone())),
    })
}
