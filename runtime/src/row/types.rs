//! The Arrow type vocabulary: the Arrow type of each featc type (timestamps: µs, UTC),
//! and which Arrow types a declared column may be read from.

use datafusion::arrow::datatypes::{DataType as ArrowType, TimeUnit};

use crate::ir::DataType;

/// The time zone of every featc timestamp column.
pub const UTC: &str = "UTC";

/// The Arrow type featc uses for a language type (timestamps: µs, UTC).
pub fn arrow_type(ty: DataType) -> ArrowType {
    match ty {
        DataType::Int64 => ArrowType::Int64,
        DataType::Float64 => ArrowType::Float64,
        DataType::String => ArrowType::Utf8,
        DataType::Bool => ArrowType::Boolean,
        DataType::Timestamp => timestamp_type(),
        DataType::Date => ArrowType::Date32,
        DataType::Decimal { precision, scale } => ArrowType::Decimal128(precision, scale as i8),
        DataType::List(l) => super::list::arrow_list_type(l),
    }
}

/// `Timestamp(Microsecond, "UTC")`, the type of every time column after IO.
pub fn timestamp_type() -> ArrowType {
    ArrowType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
}

/// True when `ty` can be converted by `time::to_micros`.
pub fn is_timestamp(ty: &ArrowType) -> bool {
    matches!(
        ty,
        ArrowType::Timestamp(_, _) | ArrowType::Date32 | ArrowType::Date64
    )
}

/// Whether data of Arrow type `found` can be read as declared type `declared`
/// (losslessly, or by the documented conversions).
pub fn compatible(declared: DataType, found: &ArrowType) -> bool {
    use ArrowType as A;
    // A column of nulls only (Arrow's null type, e.g. a Python list of None) reads
    // as nulls of any declared type; a non-nullable column refuses them as it reads.
    if *found == A::Null {
        return true;
    }
    match declared {
        DataType::Int64 => matches!(
            found,
            A::Int8 | A::Int16 | A::Int32 | A::Int64 | A::UInt8 | A::UInt16 | A::UInt32
        ),
        DataType::Float64 => matches!(
            found,
            A::Float16 | A::Float32 | A::Float64 | A::Int8 | A::Int16 | A::Int32 | A::Int64
        ),
        DataType::String => match found {
            A::Utf8 | A::LargeUtf8 | A::Utf8View => true,
            A::Dictionary(_, v) => matches!(v.as_ref(), A::Utf8 | A::LargeUtf8 | A::Utf8View),
            _ => false,
        },
        DataType::Bool => matches!(found, A::Boolean),
        DataType::Timestamp => is_timestamp(found),
        // Text only where a path parses it (CSV cells, JSON): see `date::to_days`.
        DataType::Date => matches!(found, A::Date32 | A::Date64),
        // Exactly (`decimal::to_decimal`, value by value); text only where a path
        // parses it; never a float.
        DataType::Decimal { .. } => matches!(
            found,
            A::Decimal128(..)
                | A::Decimal256(..)
                | A::Int8
                | A::Int16
                | A::Int32
                | A::Int64
                | A::UInt8
                | A::UInt16
                | A::UInt32
                | A::UInt64
        ),
        // A list column: any Arrow list form of its items (`list_column`); a counted
        // list is a result only.
        DataType::List(l) => !l.counted && super::list_column::is_list_input(found, l.item),
    }
}
