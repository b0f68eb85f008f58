//! Which Arrow types have statistics, under which featc type, and the conversion of a
//! column to the one array type its accumulator reads.

use std::fmt;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::arrow::error::ArrowError;

/// The featc type a column's statistics are kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    String,
    Bool,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Int => "int64",
            Kind::Float => "float64",
            Kind::String => "string",
            Kind::Bool => "bool",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Kind::Int | Kind::Float)
    }

    /// The Arrow type the accumulator reads.
    fn arrow(self) -> ArrowType {
        match self {
            Kind::Int => ArrowType::Int64,
            Kind::Float => ArrowType::Float64,
            Kind::String => ArrowType::Utf8,
            Kind::Bool => ArrowType::Boolean,
        }
    }
}

/// The kind of a column of Arrow type `ty`, or why it has no statistics. Integers that
/// fit in int64 are int64 (a `UInt64` may not), floats are float64, any string
/// encoding is a string.
pub fn kind_of(ty: &ArrowType) -> Result<Kind, NoStatistics> {
    use ArrowType as A;
    match ty {
        A::Int8 | A::Int16 | A::Int32 | A::Int64 | A::UInt8 | A::UInt16 | A::UInt32 => {
            Ok(Kind::Int)
        }
        A::Float16 | A::Float32 | A::Float64 => Ok(Kind::Float),
        A::Utf8 | A::LargeUtf8 | A::Utf8View => Ok(Kind::String),
        A::Dictionary(_, v) if matches!(v.as_ref(), A::Utf8 | A::LargeUtf8 | A::Utf8View) => {
            Ok(Kind::String)
        }
        A::Boolean => Ok(Kind::Bool),
        A::Null => Err(NoStatistics::OnlyNulls),
        A::Timestamp(..) | A::Date32 | A::Date64 => Err(NoStatistics::Time),
        other => Err(NoStatistics::Undefined(other.clone())),
    }
}

/// Why a column has no statistics (`kind_of`).
#[derive(Debug, Clone, PartialEq)]
pub enum NoStatistics {
    /// A column of Arrow's `Null` type.
    OnlyNulls,
    /// A time or date column.
    Time,
    /// Any other type statistics are not kept for.
    Undefined(ArrowType),
}

impl fmt::Display for NoStatistics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoStatistics::OnlyNulls => {
                f.write_str("no values of any type (a column of nulls only)")
            }
            NoStatistics::Time => f.write_str("a time: statistics are for feature values"),
            NoStatistics::Undefined(ty) => write!(f, "statistics are not defined for {ty}"),
        }
    }
}

/// `array` as the Arrow type of `kind` (every conversion `kind_of` admits is lossless).
pub fn convert(array: &ArrayRef, kind: Kind) -> Result<ArrayRef, ArrowError> {
    if array.data_type() == &kind.arrow() {
        return Ok(ArrayRef::clone(array));
    }
    cast(array, &kind.arrow())
}
