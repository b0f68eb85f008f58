//! Feature values back to Arrow columns, with the types of the training set:
//! int64, float64, utf8, boolean, and timestamps in microseconds, UTC.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType as ArrowType, TimeUnit};

use super::error::ReferenceError;
use super::value::RValue;
use crate::ir::DataType;

/// The Arrow type of a feature column of featc type `ty`.
pub fn arrow_type(ty: DataType) -> ArrowType {
    match ty {
        DataType::Int64 => ArrowType::Int64,
        DataType::Float64 => ArrowType::Float64,
        DataType::String => ArrowType::Utf8,
        DataType::Bool => ArrowType::Boolean,
        DataType::Timestamp => ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    }
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
    })
}
