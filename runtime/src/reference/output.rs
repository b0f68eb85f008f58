//! Feature values back to Arrow columns, with the types of the training set:
//! int64, float64, utf8, boolean, timestamps in microseconds, UTC, dates as `Date32`,
//! decimals as `Decimal128(p, s)`,
//! and lists of them:
//! `List<T>` (its items nullable: a list column's may be null), or
//! `List<Struct<value: T, count: Int64>>` for a counted list, whose entries and
//! fields are never null.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    ListArray, StringArray, StructArray, TimestampMicrosecondArray,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Fields, TimeUnit};

use super::error::ReferenceError;
use super::value::RValue;
use crate::ir::{DataType, ListType};

/// The Arrow type of a feature column of featc type `ty`.
pub fn arrow_type(ty: DataType) -> ArrowType {
    match ty {
        DataType::Int64 => ArrowType::Int64,
        DataType::Float64 => ArrowType::Float64,
        DataType::String => ArrowType::Utf8,
        DataType::Bool => ArrowType::Boolean,
        DataType::Timestamp => ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        DataType::Date => ArrowType::Date32,
        DataType::Decimal { precision, scale } => ArrowType::Decimal128(precision, scale as i8),
        DataType::List(l) => ArrowType::List(Arc::new(item_field(l))),
    }
}

/// A counted list's entry: `struct<value: T, count: int64>`.
fn entry_fields(l: ListType) -> Fields {
    Fields::from(vec![
        Field::new("value", arrow_type(l.item.data_type()), false),
        Field::new("count", ArrowType::Int64, false),
    ])
}

fn item_field(l: ListType) -> Field {
    let item = match l.counted {
        true => ArrowType::Struct(entry_fields(l)),
        false => arrow_type(l.item.data_type()),
    };
    Field::new("item", item, !l.counted)
}

/// A list column: the items of every row in one child column (built like any
/// column of the item type), cut by offsets.
fn list_array(name: &str, l: ListType, values: &[RValue]) -> Result<ArrayRef, ReferenceError> {
    let mut items: Vec<RValue> = Vec::new();
    let mut counts: Vec<i64> = Vec::new();
    let mut offsets: Vec<i32> = vec![0];
    let mut valid: Vec<bool> = Vec::new();
    for v in values {
        match (v, l.counted) {
            (RValue::Null, _) => valid.push(false),
            (RValue::List(xs), false) => {
                items.extend(xs.iter().cloned());
                valid.push(true);
            }
            (RValue::Counted(xs), true) => {
                for (x, c) in xs {
                    items.push(x.clone());
                    counts.push(*c);
                }
                valid.push(true);
            }
            (other, _) => {
                return Err(ReferenceError::Arrow(format!(
                    "feature `{name}` of type {} produced a {} value",
                    l.name(),
                    other.kind_name()
                )))
            }
        }
        offsets.push(i32::try_from(items.len()).map_err(|e| ReferenceError::Arrow(e.to_string()))?);
    }
    let mut child = to_array(name, l.item.data_type(), &items)?;
    if l.counted && child.null_count() > 0 {
        return Err(ReferenceError::Arrow(format!(
            "feature `{name}` has a null item"
        )));
    }
    if l.counted {
        let counts: ArrayRef = Arc::new(Int64Array::from(counts));
        child = Arc::new(
            StructArray::try_new(entry_fields(l), vec![child, counts], None)
                .map_err(|e| ReferenceError::Arrow(e.to_string()))?,
        );
    }
    let nulls = valid.contains(&false).then(|| NullBuffer::from(valid));
    let list = ListArray::try_new(
        Arc::new(item_field(l)),
        OffsetBuffer::new(offsets.into()),
        child,
        nulls,
    )
    .map_err(|e| ReferenceError::Arrow(e.to_string()))?;
    Ok(Arc::new(list))
}

/// One column of `values`, all of type `ty` or null.
pub fn to_array(name: &str, ty: DataType, values: &[RValue]) -> Result<ArrayRef, ReferenceError> {
    let mismatch = |v: &RValue| {
        ReferenceError::Arrow(format!(
            "feature `{name}` of type {} produced a {} value",
            ty.name(),
            v.kind_name()
        ))
    };
    Ok(match ty {
        DataType::Int64 => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    RValue::Null => Ok(None),
                    RValue::Int(x) => Ok(Some(*x)),
                    other => Err(mismatch(other)),
                })
                .collect::<Result<Int64Array, _>>()?,
        ),
        DataType::Float64 => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    RValue::Null => Ok(None),
                    RValue::Float(x) => Ok(Some(*x)),
                    other => Err(mismatch(other)),
                })
                .collect::<Result<Float64Array, _>>()?,
        ),
        DataType::String => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    RValue::Null => Ok(None),
                    RValue::Str(x) => Ok(Some(x.as_str())),
                    other => Err(mismatch(other)),
                })
                .collect::<Result<StringArray, _>>()?,
        ),
        DataType::Bool => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    RValue::Null => Ok(None),
                    RValue::Bool(x) => Ok(Some(*x)),
                    other => Err(mismatch(other)),
                })
                .collect::<Result<BooleanArray, _>>()?,
        ),
        DataType::Timestamp => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    RValue::Null => Ok(None),
                    RValue::Ts(x) => Ok(Some(*x)),
                    other => Err(mismatch(other)),
                })
                .collect::<Result<TimestampMicrosecondArray, _>>()?
                .with_timezone("UTC"),
        ),
        DataType::Date => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    RValue::Null => Ok(None),
                    RValue::Date(x) => Ok(Some(*x)),
                    other => Err(mismatch(other)),
                })
                .collect::<Result<Date32Array, _>>()?,
        ),
        DataType::Decimal { precision, scale } => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    RValue::Null => Ok(None),
                    RValue::Dec(x, s) if *s == scale => {
                        i128::try_from(x).map(Some).map_err(|_| mismatch(v))
                    }
                    other => Err(mismatch(other)),
                })
                .collect::<Result<Decimal128Array, _>>()?
                .with_precision_and_scale(precision, scale as i8)
                .map_err(|e| ReferenceError::Arrow(e.to_string()))?,
        ),
        DataType::List(l) => list_array(name, l, values)?,
    })
}
