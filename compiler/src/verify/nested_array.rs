//! Generated struct and map values (`nested`) as Arrow columns: a `Struct` of one
//! child column per field (a null struct's children keep whatever values were drawn
//! for them), a `Map` of `entries: struct<keys: utf8, values: T>` in the drawn order
//! (repeated keys kept as drawn), scalar and list leaves built by `values::column`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, MapArray, StringArray, StructArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Fields};
use featc_runtime::row::types::arrow_type as value_type;

use super::values::{self, CaseValue, ColumnError};
use crate::check::nested::{self, Shape};
use crate::ir::DataType;

/// The Arrow type of a column of `shape`: fields nullable as declared, a map's
/// entries named as Arrow's own map builder names them.
pub fn arrow_type(shape: &Shape) -> ArrowType {
    match shape {
        Shape::Value(ty) => value_type(*ty),
        Shape::Struct(fields) => ArrowType::Struct(
            fields
                .iter()
                .map(|f| Field::new(&f.name, arrow_type(&f.shape), f.nullable))
                .collect(),
        ),
        Shape::Map { value, nullable } => {
            let entries = Fields::from(vec![
                Field::new("keys", ArrowType::Utf8, false),
                Field::new("values", value_type(*value), *nullable),
            ]);
            let entries = Field::new("entries", ArrowType::Struct(entries), false);
            ArrowType::Map(Arc::new(entries), false)
        }
    }
}

/// `values` of `shape` as a column of Arrow type `arrow` (`arrow_type(shape)`).
pub fn column(
    shape: &Shape,
    values: &[CaseValue],
    arrow: &ArrowType,
) -> Result<ArrayRef, ColumnError> {
    match shape {
        Shape::Value(ty) => values::column(*ty, values, arrow),
        Shape::Struct(fields) => struct_column(fields, values, arrow),
        Shape::Map { value, .. } => map_column(*value, values, arrow),
    }
}

/// A struct column: valid where the value is a `Struct`; each field's column from
/// the children of `Struct` and `NullStruct` values (null under a plain null).
fn struct_column(
    fields: &[nested::Field],
    values: &[CaseValue],
    arrow: &ArrowType,
) -> Result<ArrayRef, ColumnError> {
    let ArrowType::Struct(arrow_fields) = arrow else {
        return Err(ColumnError::Shape(format!("a struct type, found {arrow}")));
    };
    let mut children = Vec::with_capacity(fields.len());
    for (i, (field, arrow_field)) in fields.iter().zip(arrow_fields.iter()).enumerate() {
        let child: Vec<CaseValue> = values
            .iter()
            .map(|v| match v {
                CaseValue::Struct(xs) | CaseValue::NullStruct(xs) => {
                    xs.get(i).cloned().unwrap_or(CaseValue::Null)
                }
                _ => CaseValue::Null,
            })
            .collect();
        children.push(column(&field.shape, &child, arrow_field.data_type())?);
    }
    let valid: NullBuffer = values
        .iter()
        .map(|v| matches!(v, CaseValue::Struct(_)))
        .collect();
    let array = StructArray::try_new(arrow_fields.clone(), children, Some(valid))
        .map_err(ColumnError::Build)?;
    Ok(Arc::new(array))
}

/// A map column: valid where the value is a `Map`, its entries in the drawn order.
fn map_column(
    value: DataType,
    values: &[CaseValue],
    arrow: &ArrowType,
) -> Result<ArrayRef, ColumnError> {
    let ArrowType::Map(entries_field, _) = arrow else {
        return Err(ColumnError::Shape(format!("a map type, found {arrow}")));
    };
    let ArrowType::Struct(kv) = entries_field.data_type() else {
        return Err(ColumnError::Shape(format!(
            "a map's entries as a struct, found {}",
            entries_field.data_type()
        )));
    };
    let Some(values_field) = kv.get(1) else {
        return Err(ColumnError::Shape(format!(
            "a map's entries as keys and values, found {}",
            entries_field.data_type()
        )));
    };
    let mut lengths = Vec::with_capacity(values.len());
    let mut valid = Vec::with_capacity(values.len());
    let (mut keys, mut items): (Vec<&str>, Vec<CaseValue>) = (Vec::new(), Vec::new());
    for v in values {
        match v {
            CaseValue::Map(entries) => {
                lengths.push(entries.len());
                valid.push(true);
                for (k, x) in entries {
                    keys.push(k);
                    items.push(x.clone());
                }
            }
            _ => {
                lengths.push(0);
                valid.push(false);
            }
        }
    }
    let keys: ArrayRef = Arc::new(StringArray::from(keys));
    let items = values::column(value, &items, values_field.data_type())?;
    let entries =
        StructArray::try_new(kv.clone(), vec![keys, items], None).map_err(ColumnError::Build)?;
    let map = MapArray::try_new(
        Arc::clone(entries_field),
        OffsetBuffer::from_lengths(lengths),
        entries,
        Some(NullBuffer::from(valid)),
        false,
    )
    .map_err(ColumnError::Build)?;
    Ok(Arc::new(map))
}
