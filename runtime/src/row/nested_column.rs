//! Path columns (`ir::ColumnPath`) extracted from their struct or map column, one
//! function per input form so that the batch and stream paths agree by construction:
//! `extract` for an Arrow column (a `Struct`, a `Map`, or text holding JSON, as a
//! CSV cell does), `json_path` for a JSON value (pushes, Kafka records, JSON text).
//!
//! A null struct gives null for every field below it; a missing field or key gives
//! null; a map whose entries repeat a key reads as its last entry with that key (as
//! a JSON object with a repeated key parses), and its size counts distinct keys. A map
//! of more than `MAX_MAP_ENTRIES` entries is a bad value, found before anything is
//! copied (docs/semantics.md, "Struct and map columns").

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, MapArray, StringArray, UInt64Array,
};
use datafusion::arrow::compute::is_null;
use datafusion::arrow::compute::kernels::{cast::cast, nullif::nullif, take::take};
use datafusion::arrow::datatypes::DataType as ArrowType;
use serde_json::Value as Json;

use crate::ir::PathStep;

/// The most entries a map cell may have (as many as a list's items).
pub const MAX_MAP_ENTRIES: usize = super::list_column::MAX_LIST_ITEMS;

/// Why a path cannot be read out of a column: the row (in the array) and what is
/// wrong there, or row 0 for a whole column of the wrong type.
#[derive(Debug, Clone, PartialEq)]
pub struct PathError {
    pub row: usize,
    pub message: String,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (row {})", self.message, self.row)
    }
}

fn whole(message: String) -> PathError {
    PathError { row: 0, message }
}

/// True for an Arrow text type: a struct or map column given as its JSON text.
pub fn is_text(ty: &ArrowType) -> bool {
    matches!(
        ty,
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
    )
}

/// The Arrow type `extract` gives for `steps` from a column of type `physical`.
pub fn path_type(physical: &ArrowType, steps: &[PathStep]) -> Result<ArrowType, PathError> {
    let mut ty = physical.clone();
    for step in steps {
        if is_text(&ty) {
            // JSON text: every leaf is read as its text (`json_text`).
            return Ok(ArrowType::Utf8);
        }
        ty = match (step, &ty) {
            (PathStep::Field(name), ArrowType::Struct(fields)) => fields
                .iter()
                .find(|f| f.name() == name)
                .map(|f| f.data_type().clone())
                .ok_or_else(|| whole(format!("the struct has no field `{name}`")))?,
            (PathStep::Key(_), ArrowType::Map(entries, _)) => match entries.data_type() {
                ArrowType::Struct(kv) if kv.len() == 2 => kv[1].data_type().clone(),
                other => return Err(whole(format!("a map of {other}"))),
            },
            (PathStep::Size, ArrowType::Map(..)) => ArrowType::Int64,
            (PathStep::HasKey(_), ArrowType::Map(..)) => ArrowType::Boolean,
            (PathStep::Field(_), other) => {
                return Err(whole(format!("expected a struct, found {other}")))
            }
            (_, other) => return Err(whole(format!("expected a map, found {other}"))),
        };
    }
    Ok(ty)
}

/// The path's values out of `array`: a field of a struct (null where the struct is),
/// a map's value under a key, its size or whether it holds the key, or, from text,
/// each leaf's text (`json_text`). The result has `path_type`'s type.
pub fn extract(array: &ArrayRef, steps: &[PathStep]) -> Result<ArrayRef, PathError> {
    let mut current = array.clone();
    for (i, step) in steps.iter().enumerate() {
        if is_text(current.data_type()) {
            return from_text(&current, &steps[i..]);
        }
        current = match step {
            PathStep::Field(name) => field(&current, name)?,
            map_step => map(&current, map_step)?,
        };
    }
    Ok(current)
}

fn field(array: &ArrayRef, name: &str) -> Result<ArrayRef, PathError> {
    let s = array
        .as_struct_opt()
        .ok_or_else(|| whole(format!("expected a struct, found {}", array.data_type())))?;
    let child = s
        .column_by_name(name)
        .ok_or_else(|| whole(format!("the struct has no field `{name}`")))?;
    if s.null_count() == 0 {
        return Ok(child.clone());
    }
    // A null struct's fields are null, whatever its child arrays hold there.
    let nulls = is_null(s).map_err(|e| whole(e.to_string()))?;
    nullif(child, &nulls).map_err(|e| whole(e.to_string()))
}

fn map(array: &ArrayRef, step: &PathStep) -> Result<ArrayRef, PathError> {
    let m: &MapArray = array
        .as_map_opt()
        .ok_or_else(|| whole(format!("expected a map, found {}", array.data_type())))?;
    let keys = cast(m.keys(), &ArrowType::Utf8).map_err(|e| whole(e.to_string()))?;
    let keys: &StringArray = keys.as_string();
    let offsets = m.value_offsets();
    let mut found: Vec<Option<u64>> = Vec::with_capacity(m.len());
    let mut sizes: Vec<Option<i64>> = Vec::with_capacity(m.len());
    for row in 0..m.len() {
        if m.is_null(row) {
            found.push(None);
            sizes.push(None);
            continue;
        }
        let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
        if end - start > MAX_MAP_ENTRIES {
            return Err(PathError {
                row,
                message: format!(
                    "a map of {} entries, more than {MAX_MAP_ENTRIES}",
                    end - start
                ),
            });
        }
        match step {
            PathStep::Size => {
                let distinct: HashSet<&str> = (start..end).map(|j| keys.value(j)).collect();
                sizes.push(Some(distinct.len() as i64));
            }
            PathStep::Key(k) | PathStep::HasKey(k) => {
                // The last entry with the key wins.
                found.push(
                    (start..end)
                        .rev()
                        .find(|&j| keys.value(j) == k)
                        .map(|j| j as u64),
                );
            }
            PathStep::Field(_) => return Err(whole("a map has no fields".to_string())),
        }
    }
    Ok(match step {
        PathStep::Size => Arc::new(Int64Array::from(sizes)),
        PathStep::HasKey(_) => Arc::new(
            found
                .iter()
                .enumerate()
                .map(|(row, j)| (!m.is_null(row)).then_some(j.is_some()))
                .collect::<BooleanArray>(),
        ),
        _ => take(m.values(), &UInt64Array::from(found), None).map_err(|e| whole(e.to_string()))?,
    })
}

/// JSON text (a CSV cell's): each cell parsed, the path read by `json_path`, the
/// leaf given as text (`json_text`).
fn from_text(array: &ArrayRef, steps: &[PathStep]) -> Result<ArrayRef, PathError> {
    let text = cast(array, &ArrowType::Utf8).map_err(|e| whole(e.to_string()))?;
    let text: &StringArray = text.as_string();
    let mut out: Vec<Option<String>> = Vec::with_capacity(text.len());
    for row in 0..text.len() {
        if text.is_null(row) || text.value(row).trim().is_empty() {
            out.push(None);
            continue;
        }
        let value: Json = serde_json::from_str(text.value(row)).map_err(|e| PathError {
            row,
            message: format!("not JSON: {e}"),
        })?;
        let leaf = json_path(&value, steps).map_err(|e| PathError {
            row,
            message: e.to_string(),
        })?;
        out.push(json_text(&leaf));
    }
    Ok(Arc::new(StringArray::from(out)))
}

/// A leaf as the text a CSV cell would hold: a string as itself, anything else as
/// its JSON text (a list's array, a number as written), null as null.
pub fn json_text(leaf: &Json) -> Option<String> {
    match leaf {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Why a JSON value holds no value for a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonPathError {
    /// A step met a value that is no object (what it is: `a string`, ...).
    NotAnObject(&'static str),
    /// A map of more than `MAX_MAP_ENTRIES` entries (how many).
    TooManyEntries(usize),
}

impl std::fmt::Display for JsonPathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonPathError::NotAnObject(found) => write!(f, "expected an object, found {found}"),
            JsonPathError::TooManyEntries(n) => {
                write!(f, "a map of {n} entries, more than {MAX_MAP_ENTRIES}")
            }
        }
    }
}

impl std::error::Error for JsonPathError {}

/// The path's value in a JSON value: a field of an object, a map object's value
/// under a key, its number of keys or whether it holds the key; `Null` where a step
/// meets null or a missing field or key. An error says what is not an object.
pub fn json_path(value: &Json, steps: &[PathStep]) -> Result<Json, JsonPathError> {
    let mut current = value;
    for step in steps {
        let object = match current {
            Json::Null => return Ok(Json::Null),
            Json::Object(o) => o,
            other => {
                return Err(JsonPathError::NotAnObject(match other {
                    Json::Bool(_) => "a boolean",
                    Json::Number(_) => "a number",
                    Json::String(_) => "a string",
                    Json::Array(_) => "an array",
                    _ => "a value",
                }))
            }
        };
        if !matches!(step, PathStep::Field(_)) && object.len() > MAX_MAP_ENTRIES {
            return Err(JsonPathError::TooManyEntries(object.len()));
        }
        // A parsed object holds each key once: the last of repeated keys.
        match step {
            PathStep::Field(k) | PathStep::Key(k) => match object.get(k) {
                Some(v) => current = v,
                None => return Ok(Json::Null),
            },
            PathStep::Size => return Ok(Json::from(object.len())),
            PathStep::HasKey(k) => return Ok(Json::Bool(object.contains_key(k))),
        }
    }
    Ok(current.clone())
}
