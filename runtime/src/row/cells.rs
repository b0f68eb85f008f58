//! Moving cells between Arrow arrays and `Value`s: typed column views for reading
//! ingested batches row by row, and builders for writing feature values back.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBuilder, Date32Array, Date32Builder, Decimal128Array,
    Decimal128Builder, Float64Array, Float64Builder, Int64Array, Int64Builder, StringArray,
    StringBuilder, TimestampMicrosecondArray, TimestampMicrosecondBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType as ArrowType;

use super::date::{is_date_input, to_days};
use super::decimal::{is_decimal_input, to_decimal};
use super::intern::Interner;
use super::list_column::{list_cell, to_lists};
use super::time::{is_integer_time, to_micros_in};
use super::types::{arrow_type, compatible, is_timestamp, UTC};
use super::ListError;
use crate::ir::{DataType, EpochUnit, ListType, Scalar};
use crate::value::Value;

/// Why a column of an ingested batch cannot be read as its declared type.
#[derive(Debug, Clone, PartialEq)]
pub struct CellError {
    pub column: String,
    pub message: String,
}

/// Converts `array` to featc's Arrow type for `ty` (strings of any layout to `Utf8`,
/// timestamps of any unit/zone to µs UTC, through `time`); other mismatches fail.
/// An integer time must be plausible microseconds (`time::epoch_micros`).
pub fn conform(array: &ArrayRef, ty: DataType, column: &str) -> Result<ArrayRef, CellError> {
    conform_in(array, ty, column, None)
}

/// `conform` for a column of a source whose integer times count `epoch` (its
/// `epoch U` clause; `None` without one).
pub fn conform_in(
    array: &ArrayRef,
    ty: DataType,
    column: &str,
    epoch: Option<EpochUnit>,
) -> Result<ArrayRef, CellError> {
    let want = arrow_type(ty);
    let err = |message: String| CellError {
        column: column.to_string(),
        message,
    };
    // Dates are checked even as `Date32`: the range is part of the type.
    if ty == DataType::Date
        && (is_date_input(array.data_type()) || *array.data_type() == ArrowType::Null)
    {
        if *array.data_type() == ArrowType::Null {
            return cast(array, &want).map_err(|e| err(e.to_string()));
        }
        return to_days(array).map_err(|e| err(e.to_string()));
    }
    // Decimals are checked even as their own `Decimal128`: the precision is part of
    // the type and Arrow does not enforce it.
    if let DataType::Decimal { precision, scale } = ty {
        if *array.data_type() == ArrowType::Null {
            return cast(array, &want).map_err(|e| err(e.to_string()));
        }
        if is_decimal_input(array.data_type()) {
            return to_decimal(array, precision, scale).map_err(|e| err(e.to_string()));
        }
    }
    if array.data_type() == &want {
        return Ok(array.clone());
    }
    if let DataType::List(l) = ty {
        // Every list form, and JSON text, through the one list reader.
        return to_lists(array, l.item).map_err(|e| err(e.to_string()));
    }
    match ty {
        DataType::Timestamp
            if is_timestamp(array.data_type()) || is_integer_time(array.data_type()) =>
        {
            to_micros_in(array, epoch).map_err(|e| err(e.to_string()))
        }
        DataType::String
            if matches!(
                array.data_type(),
                ArrowType::LargeUtf8 | ArrowType::Utf8View
            ) =>
        {
            cast(array, &want).map_err(|e| err(e.to_string()))
        }
        // Everything the IO boundary accepts for the batch path (narrower ints,
        // dictionary strings, ...) is accepted here too, so both paths read the same
        // data; `compatible` only admits lossless or documented casts.
        _ if compatible(ty, array.data_type()) => {
            cast(array, &want).map_err(|e| err(e.to_string()))
        }
        _ => Err(err(format!(
            "has type {}, expected {}",
            array.data_type(),
            ty.name()
        ))),
    }
}

/// A typed, borrowed view of one conformed column.
#[derive(Debug, Clone, Copy)]
pub enum Cells<'a> {
    Int64(&'a Int64Array),
    Float64(&'a Float64Array),
    String(&'a StringArray),
    Bool(&'a BooleanArray),
    Timestamp(&'a TimestampMicrosecondArray),
    Date(&'a Date32Array),
    Decimal(&'a Decimal128Array, u8, u8),
    /// A list column (`list_column`'s form); its cells are built per row.
    List(&'a ArrayRef, Scalar),
}

impl<'a> Cells<'a> {
    /// A view of `array`, which must have type `arrow_type(ty)` (see `conform`).
    pub fn new(array: &'a ArrayRef, ty: DataType) -> Option<Cells<'a>> {
        let any = array.as_any();
        Some(match ty {
            DataType::Int64 => Cells::Int64(any.downcast_ref()?),
            DataType::Float64 => Cells::Float64(any.downcast_ref()?),
            DataType::String => Cells::String(any.downcast_ref()?),
            DataType::Bool => Cells::Bool(any.downcast_ref()?),
            DataType::Timestamp => Cells::Timestamp(any.downcast_ref()?),
            DataType::Date => Cells::Date(any.downcast_ref()?),
            DataType::Decimal { precision, scale } => {
                Cells::Decimal(any.downcast_ref()?, precision, scale)
            }
            DataType::List(l) if !l.counted && array.data_type() == &arrow_type(ty) => {
                Cells::List(array, l.item)
            }
            DataType::List(_) => return None,
        })
    }

    #[inline]
    pub fn is_null(&self, row: usize) -> bool {
        match self {
            Cells::Int64(a) => a.is_null(row),
            Cells::Float64(a) => a.is_null(row),
            Cells::String(a) => a.is_null(row),
            Cells::Bool(a) => a.is_null(row),
            Cells::Timestamp(a) => a.is_null(row),
            Cells::Date(a) => a.is_null(row),
            Cells::Decimal(a, ..) => a.is_null(row),
            Cells::List(a, _) => a.is_null(row),
        }
    }

    #[inline]
    pub fn get(&self, row: usize) -> Value {
        if self.is_null(row) {
            return Value::Null;
        }
        match self {
            Cells::Int64(a) => Value::Int64(a.value(row)),
            Cells::Float64(a) => Value::Float64(a.value(row)),
            Cells::String(a) => Value::String(Arc::from(a.value(row))),
            Cells::Bool(a) => Value::Bool(a.value(row)),
            Cells::Timestamp(a) => Value::Timestamp(a.value(row)),
            Cells::Date(a) => Value::Date(a.value(row)),
            Cells::Decimal(a, p, s) => Value::decimal(a.value(row), *p, *s),
            Cells::List(a, item) => list_cell(a.as_ref(), *item, row),
        }
    }
}

impl Cells<'_> {
    /// `get`, with strings shared through `strings` (no allocation per row).
    #[inline]
    pub(crate) fn get_interned(&self, row: usize, strings: &mut Interner) -> Value {
        match self {
            Cells::String(a) if a.is_valid(row) => Value::String(strings.get(a.value(row))),
            _ => self.get(row),
        }
    }
}

/// Builds one output column of feature values of type `ty`.
pub enum ValuesBuilder {
    Int64(Int64Builder),
    Float64(Float64Builder),
    String(StringBuilder),
    Bool(BooleanBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Date(Date32Builder),
    Decimal(Decimal128Builder, u8, u8),
    /// A list column: the values, made into an Arrow column at `finish`.
    List(ListType, Vec<Value>),
}

impl ValuesBuilder {
    pub fn new(ty: DataType, capacity: usize) -> ValuesBuilder {
        match ty {
            DataType::Int64 => ValuesBuilder::Int64(Int64Builder::with_capacity(capacity)),
            DataType::Float64 => ValuesBuilder::Float64(Float64Builder::with_capacity(capacity)),
            DataType::String => {
                ValuesBuilder::String(StringBuilder::with_capacity(capacity, capacity * 8))
            }
            DataType::Bool => ValuesBuilder::Bool(BooleanBuilder::with_capacity(capacity)),
            DataType::Timestamp => ValuesBuilder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone(UTC),
            ),
            DataType::Date => ValuesBuilder::Date(Date32Builder::with_capacity(capacity)),
            DataType::Decimal { precision, scale } => {
                ValuesBuilder::Decimal(Decimal128Builder::with_capacity(capacity), precision, scale)
            }
            DataType::List(l) => ValuesBuilder::List(l, Vec::with_capacity(capacity)),
        }
    }

    /// Appends `v`; a value of another variant than the column's type is appended as
    /// null and reported (`false`) so the caller can turn it into an error.
    pub fn append(&mut self, v: &Value) -> bool {
        match (self, v) {
            (ValuesBuilder::Int64(b), Value::Int64(x)) => b.append_value(*x),
            (ValuesBuilder::Float64(b), Value::Float64(x)) => b.append_value(*x),
            (ValuesBuilder::String(b), Value::String(x)) => b.append_value(x),
            (ValuesBuilder::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (ValuesBuilder::Timestamp(b), Value::Timestamp(x)) => b.append_value(*x),
            (ValuesBuilder::Date(b), Value::Date(x)) => b.append_value(*x),
            (
                ValuesBuilder::Decimal(b, p, s),
                Value::Decimal {
                    unscaled,
                    precision,
                    scale,
                },
            ) if (*p, *s) == (*precision, *scale) => b.append_value(unscaled.get()),
            (ValuesBuilder::List(ty, b), Value::List(l)) if l.list_type() == *ty => {
                b.push(v.clone())
            }
            (b, v) => {
                b.append_null();
                return v.is_null();
            }
        }
        true
    }

    pub fn append_null(&mut self) {
        match self {
            ValuesBuilder::Int64(b) => b.append_null(),
            ValuesBuilder::Float64(b) => b.append_null(),
            ValuesBuilder::String(b) => b.append_null(),
            ValuesBuilder::Bool(b) => b.append_null(),
            ValuesBuilder::Timestamp(b) => b.append_null(),
            ValuesBuilder::Date(b) => b.append_null(),
            ValuesBuilder::Decimal(b, ..) => b.append_null(),
            ValuesBuilder::List(_, b) => b.push(Value::Null),
        }
    }

    /// The column; the error says why a list column could not be built (more than
    /// 2^31 items in all).
    pub fn finish(&mut self) -> Result<ArrayRef, ListError> {
        Ok(match self {
            ValuesBuilder::Int64(b) => Arc::new(b.finish()),
            ValuesBuilder::Float64(b) => Arc::new(b.finish()),
            ValuesBuilder::String(b) => Arc::new(b.finish()),
            ValuesBuilder::Bool(b) => Arc::new(b.finish()),
            ValuesBuilder::Timestamp(b) => Arc::new(b.finish()),
            ValuesBuilder::Decimal(b, p, s) => Arc::new(
                b.finish()
                    .with_precision_and_scale(*p, *s as i8)
                    .map_err(ListError::Arrow)?,
            ),
            ValuesBuilder::Date(b) => Arc::new(b.finish()),
            ValuesBuilder::List(ty, b) => super::list::list_array(*ty, &std::mem::take(b))?,
        })
    }
}
