//! List values (`last_k`, `first_k`, `top_k`) outside the algebra: their Arrow type
//! and columns (both executors' training sets and reads), Arrow cells read back as
//! values, and the JSON text a CSV cell and a Redis hash field spell them in.
//!
//! Arrow: `list<T>` is `List<T>` and a counted list `List<Struct<value: T, count:
//! Int64>>`. A `list<T>`'s items may be null (a list source column's may, and
//! `first`, `last` and the element-wise `avg` of one keep them), so its item field
//! is nullable; the list aggregations' items are never null, nor a counted list's
//! entries (a null feature is a null list).
//!
//! JSON text (docs/semantics.md, "List values"): `[3,1,2]`, `["a","b"]`,
//! `[{"value":"a","count":3}]`; floats in their shortest form that reads back to the
//! same bits, the non-finite ones as the strings `"NaN"`, `"Infinity"` and
//! `"-Infinity"` (as `featc serve` writes floats); timestamps as RFC 3339 strings in
//! UTC (`"2024-03-01T12:00:00Z"`, with the fraction of a second when there is one);
//! dates as `"YYYY-MM-DD"` strings; decimals as strings of their exact text with
//! exactly their scale's fractional digits (`"12.30"`).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder,
    Int64Array, Int64Builder, ListArray, StringBuilder, StructArray, TimestampMicrosecondBuilder,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{
    DataType as ArrowType, Date32Type, Decimal128Type, Field, Fields, Float64Type, Int64Type,
    TimestampMicrosecondType,
};
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::Value as Json;

use super::list_error::ListError;
use super::types::{arrow_type, UTC};
use crate::ir::{ListType, Scalar};
use crate::value::{List, Value};

/// The fields of a counted list's struct.
fn entry_fields(item: Scalar) -> Fields {
    Fields::from(vec![
        Field::new("value", arrow_type(item.data_type()), false),
        Field::new("count", ArrowType::Int64, false),
    ])
}

/// The field of a list's items (Arrow's usual name, `item`).
fn item_field(ty: ListType) -> Field {
    let item = if ty.counted {
        ArrowType::Struct(entry_fields(ty.item))
    } else {
        arrow_type(ty.item.data_type())
    };
    Field::new("item", item, !ty.counted)
}

/// The Arrow type of a list feature's column.
pub fn arrow_list_type(ty: ListType) -> ArrowType {
    ArrowType::List(Arc::new(item_field(ty)))
}

/// The Arrow column of type `arrow_list_type(ty)` of one value per row (a list or
/// null). The error names what did not fit.
pub fn list_array(ty: ListType, values: &[Value]) -> Result<ArrayRef, ListError> {
    let mut offsets: Vec<i32> = Vec::with_capacity(values.len() + 1);
    offsets.push(0);
    let mut valid: Vec<bool> = Vec::with_capacity(values.len());
    let mut items: Vec<&Value> = Vec::new();
    let mut counts: Vec<i64> = Vec::new();
    for v in values {
        match v {
            Value::Null => valid.push(false),
            Value::List(l) if l.list_type() == ty => {
                items.extend(l.items.iter());
                if let Some(c) = &l.counts {
                    counts.extend(c.iter().copied());
                }
                valid.push(true);
            }
            other => {
                return Err(ListError::WrongValue {
                    list: ty,
                    found: other.variant_name(),
                })
            }
        }
        let end = i32::try_from(items.len()).map_err(|_| ListError::TooManyItems { list: ty })?;
        offsets.push(end);
    }
    let child = scalar_array(ty.item, &items)?;
    let child: ArrayRef = if ty.counted {
        if counts.len() != items.len() {
            return Err(ListError::UnpairedCounts);
        }
        let counts: ArrayRef = Arc::new(Int64Array::from(counts));
        Arc::new(StructArray::try_new(
            entry_fields(ty.item),
            vec![child, counts],
            None,
        )?)
    } else {
        child
    };
    let nulls = valid.iter().any(|v| !v).then(|| NullBuffer::from(valid));
    let array = ListArray::try_new(
        Arc::new(item_field(ty)),
        OffsetBuffer::new(offsets.into()),
        child,
        nulls,
    )?;
    Ok(Arc::new(array))
}

/// The items as an Arrow array of `item`'s type (a null item stays null).
fn scalar_array(item: Scalar, items: &[&Value]) -> Result<ArrayRef, ListError> {
    let wrong = |v: &Value| ListError::WrongItem {
        item,
        found: v.variant_name(),
    };
    macro_rules! build {
        ($builder:expr, $variant:ident) => {{
            let mut b = $builder;
            for v in items {
                match v {
                    Value::$variant(x) => b.append_value(*x),
                    Value::Null => b.append_null(),
                    v => return Err(wrong(v)),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    Ok(match item {
        Scalar::Int64 => build!(Int64Builder::with_capacity(items.len()), Int64),
        Scalar::Float64 => build!(Float64Builder::with_capacity(items.len()), Float64),
        Scalar::Bool => build!(BooleanBuilder::with_capacity(items.len()), Bool),
        Scalar::Timestamp => build!(
            TimestampMicrosecondBuilder::with_capacity(items.len()).with_timezone(UTC),
            Timestamp
        ),
        Scalar::Date => build!(Date32Builder::with_capacity(items.len()), Date),
        Scalar::Decimal { precision, scale } => {
            let mut b = Decimal128Builder::with_capacity(items.len());
            for v in items {
                match v {
                    Value::Decimal {
                        unscaled,
                        precision: p,
                        scale: s,
                    } if (*p, *s) == (precision, scale) => b.append_value(unscaled.get()),
                    v => return Err(wrong(v)),
                }
            }
            Arc::new(
                b.finish()
                    .with_precision_and_scale(precision, scale as i8)?,
            )
        }
        Scalar::String => {
            let mut b = StringBuilder::with_capacity(items.len(), items.len() * 8);
            for v in items {
                match v {
                    Value::String(s) => b.append_value(s.as_ref()),
                    Value::Null => b.append_null(),
                    v => return Err(wrong(v)),
                }
            }
            Arc::new(b.finish())
        }
    })
}

/// The value of row `row` of a list column of type `ty` (as `list_array` writes
/// them): `Value::Null` for a null cell; `None` when the array is not such a column.
pub fn list_at(array: &dyn Array, ty: ListType, row: usize) -> Option<Value> {
    let lists = array.as_list_opt::<i32>()?;
    if row >= lists.len() {
        return None;
    }
    if lists.is_null(row) {
        return Some(Value::Null);
    }
    let cell = lists.value(row);
    let (values, counts) = if ty.counted {
        let entries = cell.as_struct_opt()?;
        let counts = entries.column(1).as_primitive_opt::<Int64Type>()?;
        (
            Arc::clone(entries.column(0)),
            Some(counts.values().to_vec()),
        )
    } else {
        (cell, None)
    };
    let items = (0..values.len())
        .map(|i| match values.is_null(i) {
            true if !ty.counted => Some(Value::Null),
            _ => scalar_at(values.as_ref(), ty.item, i),
        })
        .collect::<Option<Vec<Value>>>()?;
    Some(Value::List(Arc::new(List {
        item: ty.item,
        items,
        counts,
    })))
}

/// Item `i` of a non-null array of `item`'s Arrow type.
fn scalar_at(array: &dyn Array, item: Scalar, i: usize) -> Option<Value> {
    if array.is_null(i) {
        return None;
    }
    Some(match item {
        Scalar::Int64 => Value::Int64(array.as_primitive_opt::<Int64Type>()?.value(i)),
        Scalar::Float64 => Value::Float64(array.as_primitive_opt::<Float64Type>()?.value(i)),
        Scalar::Bool => Value::Bool(array.as_boolean_opt()?.value(i)),
        Scalar::Timestamp => Value::Timestamp(
            array
                .as_primitive_opt::<TimestampMicrosecondType>()?
                .value(i),
        ),
        Scalar::Date => Value::Date(array.as_primitive_opt::<Date32Type>()?.value(i)),
        Scalar::Decimal { precision, scale } => Value::decimal(
            array.as_primitive_opt::<Decimal128Type>()?.value(i),
            precision,
            scale,
        ),
        Scalar::String => Value::String(Arc::from(array.as_string_opt::<i32>()?.value(i))),
    })
}

/// A scalar as JSON (see the module's docs for floats and timestamps).
pub fn scalar_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int64(i) => Json::from(*i),
        Value::Float64(f) if f.is_nan() => Json::from("NaN"),
        Value::Float64(f) if f.is_infinite() => {
            Json::from(if *f > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Value::Float64(f) => Json::from(*f),
        Value::Bool(b) => Json::from(*b),
        Value::String(s) => Json::from(&**s),
        Value::Timestamp(t) => Json::from(super::time::iso8601(*t)),
        Value::Date(d) => Json::from(super::date::format_date(*d)),
        // A string, so that no JSON reader rounds it through a float.
        Value::Decimal {
            unscaled, scale, ..
        } => Json::from(super::decimal::format_decimal(unscaled.get(), *scale)),
        Value::List(l) => to_json(l),
    }
}

/// A list as a JSON array: its items, or for a counted list `{"value": .., "count":
/// ..}` objects (`json_text` is its text, with the keys in that order).
pub fn to_json(list: &List) -> Json {
    Json::Array(
        list.entries()
            .map(|(v, count)| match count {
                None => scalar_json(v),
                Some(c) => {
                    let mut entry = serde_json::Map::new();
                    entry.insert("value".to_string(), scalar_json(v));
                    entry.insert("count".to_string(), Json::from(c));
                    Json::Object(entry)
                }
            })
            .collect(),
    )
}

/// A list as compact JSON text (`[3,1,2]`, `[{"value":"a","count":3}]`: an entry's
/// keys in that order).
pub fn json_text(list: &List) -> String {
    let mut out = String::from("[");
    for (i, (v, count)) in list.entries().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let item = scalar_json(v).to_string();
        match count {
            None => out.push_str(&item),
            Some(c) => {
                out.push_str("{\"value\":");
                out.push_str(&item);
                out.push_str(",\"count\":");
                out.push_str(&c.to_string());
                out.push('}');
            }
        }
    }
    out.push(']');
    out
}

/// `batch` with every list column replaced by a string column of its cells' JSON
/// text (null stays null): what a CSV file holds (Arrow's CSV writer has no list
/// form). Other columns are untouched.
pub fn lists_as_text(batch: &RecordBatch) -> Result<RecordBatch, ListError> {
    let schema = batch.schema();
    if !schema
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), ArrowType::List(_)))
    {
        return Ok(batch.clone());
    }
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let Some(ty) = list_type_of(field.data_type()) else {
            fields.push(Arc::clone(field));
            columns.push(Arc::clone(column));
            continue;
        };
        let mut b = StringBuilder::with_capacity(column.len(), column.len() * 16);
        for row in 0..column.len() {
            match list_at(column.as_ref(), ty, row) {
                Some(Value::List(l)) => b.append_value(json_text(&l)),
                Some(_) => b.append_null(),
                None => {
                    return Err(ListError::NotFeatcList {
                        column: field.name().to_string(),
                    })
                }
            }
        }
        fields.push(Arc::new(Field::new(
            field.name(),
            ArrowType::Utf8,
            field.is_nullable(),
        )));
        columns.push(Arc::new(b.finish()) as ArrayRef);
    }
    let schema = Arc::new(datafusion::arrow::datatypes::Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ));
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// The featc list type an Arrow type is (`arrow_list_type`'s inverse).
pub fn list_type_of(arrow: &ArrowType) -> Option<ListType> {
    let ArrowType::List(field) = arrow else {
        return None;
    };
    let (item, counted) = match field.data_type() {
        ArrowType::Struct(fields) => (fields.first()?.data_type(), true),
        other => (other, false),
    };
    let item = Scalar::ALL
        .into_iter()
        .find(|s| &arrow_type(s.data_type()) == item)?;
    let ty = ListType { item, counted };
    (arrow_list_type(ty) == *arrow).then_some(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(item: Scalar, items: Vec<Value>, counts: Option<Vec<i64>>) -> Value {
        Value::List(Arc::new(List {
            item,
            items,
            counts,
        }))
    }

    #[test]
    fn lists_round_trip_through_arrow_and_spell_as_json() {
        let ty = ListType {
            item: Scalar::Float64,
            counted: false,
        };
        let values = vec![
            list(
                Scalar::Float64,
                vec![
                    Value::Float64(1.5),
                    Value::Float64(-0.0),
                    Value::Float64(f64::NAN),
                    Value::Float64(f64::NEG_INFINITY),
                ],
                None,
            ),
            Value::Null,
            Value::List(Arc::new(List::empty(ty))),
        ];
        let array = list_array(ty, &values).unwrap();
        assert_eq!(array.data_type(), &arrow_list_type(ty));
        assert_eq!(list_type_of(array.data_type()), Some(ty));
        for (row, v) in values.iter().enumerate() {
            let back = list_at(array.as_ref(), ty, row).unwrap();
            assert!(back.same_bits(v), "{back:?} vs {v:?}");
        }
        let Value::List(l) = &values[0] else {
            unreachable!()
        };
        assert_eq!(json_text(l), r#"[1.5,-0.0,"NaN","-Infinity"]"#);
        assert_eq!(json_text(l), to_json(l).to_string());
    }

    #[test]
    fn counted_lists() {
        let ty = ListType {
            item: Scalar::String,
            counted: true,
        };
        let fed = list(
            Scalar::String,
            vec![Value::String("b\"".into()), Value::String("a".into())],
            Some(vec![3, 1]),
        );
        let array = list_array(ty, &[fed]).unwrap();
        let Some(Value::List(l)) = list_at(array.as_ref(), ty, 0) else {
            panic!("not a list")
        };
        assert_eq!(
            json_text(&l),
            r#"[{"value":"b\"","count":3},{"value":"a","count":1}]"#
        );
        let parsed: Json = serde_json::from_str(&json_text(&l)).unwrap();
        assert_eq!(parsed, to_json(&l));
        let times = List {
            item: Scalar::Timestamp,
            items: vec![
                Value::Timestamp(1_709_294_400_000_000),
                Value::Timestamp(250),
            ],
            counts: None,
        };
        assert_eq!(
            json_text(&times),
            r#"["2024-03-01T12:00:00Z","1970-01-01T00:00:00.000250Z"]"#
        );
        assert!(list_array(ty, &[Value::Int64(1)]).is_err());
    }
}
