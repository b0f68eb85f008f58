//! Reads the columns the project needs out of Arrow batches into plain cells,
//! checking them against the declared types and converting timestamps of any unit or
//! time zone, and integer times (in the source's epoch unit), to UTC microseconds
//! (nanoseconds floored).

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType as ArrowType, Date32Type, Date64Type, Float64Type, Int64Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use datafusion::arrow::record_batch::RecordBatch;

use super::error::ReferenceError;
use super::value::RValue;
use crate::ir::{DataType, EpochUnit, Scalar};
use crate::row::list_column::{list_cell, to_lists, ListCellError};
use crate::value::Value;

/// Where a column is read from, for error messages.
pub struct ColumnSpec<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub ty: DataType,
    /// A null in a non-nullable column is a data error.
    pub nullable: bool,
    /// For a timestamp: `None` when integers are not times here (a spine); else the
    /// source's `epoch` unit (`Some(None)`: no clause, 16-digit microseconds only).
    pub integer_times: Option<Option<EpochUnit>>,
}

/// The cells of one column over all `batches`, in order.
pub fn read_column(
    batches: &[RecordBatch],
    spec: &ColumnSpec<'_>,
) -> Result<Vec<RValue>, ReferenceError> {
    let mut out = Vec::new();
    for batch in batches {
        let array =
            batch
                .column_by_name(spec.column)
                .ok_or_else(|| ReferenceError::MissingColumn {
                    table: spec.table.to_string(),
                    column: spec.column.to_string(),
                })?;
        let offset = out.len();
        let cells = read_array(array, spec, offset)?;
        if !spec.nullable {
            if let Some(i) = cells.iter().position(RValue::is_null) {
                return Err(ReferenceError::NullInColumn {
                    table: spec.table.to_string(),
                    column: spec.column.to_string(),
                    row: offset + i,
                });
            }
        }
        out.extend(cells);
    }
    Ok(out)
}

fn bad_type(spec: &ColumnSpec<'_>, found: &ArrowType) -> ReferenceError {
    ReferenceError::BadColumnType {
        table: spec.table.to_string(),
        column: spec.column.to_string(),
        expected: spec.ty.name().to_string(),
        found: found.to_string(),
    }
}

fn cast_to(
    array: &ArrayRef,
    to: &ArrowType,
    spec: &ColumnSpec<'_>,
) -> Result<ArrayRef, ReferenceError> {
    cast(array, to).map_err(|_| bad_type(spec, array.data_type()))
}

fn read_array(
    array: &ArrayRef,
    spec: &ColumnSpec<'_>,
    offset: usize,
) -> Result<Vec<RValue>, ReferenceError> {
    let found = array.data_type();
    let is_int = matches!(
        found,
        ArrowType::Int8
            | ArrowType::Int16
            | ArrowType::Int32
            | ArrowType::Int64
            | ArrowType::UInt8
            | ArrowType::UInt16
            | ArrowType::UInt32
    );
    let is_string = match found {
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => true,
        ArrowType::Dictionary(_, value) => {
            matches!(
                **value,
                ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
            )
        }
        _ => false,
    };
    match spec.ty {
        DataType::Int64 if is_int => {
            let a = cast_to(array, &ArrowType::Int64, spec)?;
            Ok(a.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map_or(RValue::Null, RValue::Int))
                .collect())
        }
        DataType::Float64
            if is_int
                || matches!(
                    found,
                    ArrowType::Float16 | ArrowType::Float32 | ArrowType::Float64
                ) =>
        {
            let a = cast_to(array, &ArrowType::Float64, spec)?;
            Ok(a.as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.map_or(RValue::Null, RValue::Float))
                .collect())
        }
        DataType::String if is_string => {
            let a = cast_to(array, &ArrowType::Utf8, spec)?;
            Ok(a.as_string::<i32>()
                .iter()
                .map(|v| v.map_or(RValue::Null, |s| RValue::Str(s.to_string())))
                .collect())
        }
        DataType::Bool if matches!(found, ArrowType::Boolean) => Ok(array
            .as_boolean()
            .iter()
            .map(|v| v.map_or(RValue::Null, RValue::Bool))
            .collect()),
        DataType::Timestamp => match (found, spec.integer_times) {
            (ArrowType::Timestamp(unit, _), _) => read_timestamps(array, *unit, spec, offset),
            (_, Some(epoch)) if is_int => read_integer_times(array, epoch, spec, offset),
            _ => Err(bad_type(spec, found)),
        },
        DataType::Date => read_dates(array, spec, offset),
        DataType::List(l) if !l.counted => read_lists(array, l.item, spec, offset),
        DataType::Decimal { precision, scale } => {
            read_decimals(array, spec, offset, precision, scale)
        }
        _ => Err(bad_type(spec, found)),
    }
}

/// A list column, through the one list reader every path uses (`row::list_column`:
/// which Arrow forms and texts are lists is a reading rule, not an aggregation's).
fn read_lists(
    array: &ArrayRef,
    item: Scalar,
    spec: &ColumnSpec<'_>,
    offset: usize,
) -> Result<Vec<RValue>, ReferenceError> {
    let lists = to_lists(array, item).map_err(|e| match e.error {
        ListCellError::NotAList { .. } => bad_type(spec, array.data_type()),
        error => ReferenceError::BadList {
            table: spec.table.to_string(),
            column: spec.column.to_string(),
            row: offset + e.row,
            why: error.to_string(),
        },
    })?;
    Ok((0..lists.len())
        .map(|r| match list_cell(lists.as_ref(), item, r) {
            Value::List(l) => RValue::List(l.items.iter().map(scalar).collect()),
            _ => RValue::Null,
        })
        .collect())
}

/// A list item as the oracle's value.
fn scalar(v: &Value) -> RValue {
    match v {
        Value::Int64(x) => RValue::Int(*x),
        Value::Float64(x) => RValue::Float(*x),
        Value::String(s) => RValue::Str(s.to_string()),
        Value::Bool(b) => RValue::Bool(*b),
        Value::Timestamp(t) => RValue::Ts(*t),
        Value::Date(d) => RValue::Date(*d),
        // No list column holds decimals or lists (`check` refuses them).
        Value::Null | Value::List(_) | Value::Decimal { .. } => RValue::Null,
    }
}

/// The first and last day of semantics.md's date range: 0001-01-01 and 9999-12-31,
/// as days since 1970-01-01.
const DAYS: std::ops::RangeInclusive<i64> = -719_162..=2_932_896;

/// semantics.md "Dates": a `Date32` in range, or a `Date64` that is a whole day in
/// range; anything else is a data error naming the row.
fn read_dates(
    array: &ArrayRef,
    spec: &ColumnSpec<'_>,
    offset: usize,
) -> Result<Vec<RValue>, ReferenceError> {
    let days: Vec<Option<Result<i64, String>>> = match array.data_type() {
        ArrowType::Date32 => array
            .as_primitive::<Date32Type>()
            .iter()
            .map(|d| d.map(|d| Ok(i64::from(d))))
            .collect(),
        ArrowType::Date64 => array
            .as_primitive::<Date64Type>()
            .iter()
            .map(|ms| {
                ms.map(|ms| match ms % 86_400_000 {
                    0 => Ok(ms / 86_400_000),
                    _ => Err(format!("holds {ms} ms, not a whole day")),
                })
            })
            .collect(),
        found => return Err(bad_type(spec, found)),
    };
    days.into_iter()
        .enumerate()
        .map(|(i, d)| {
            let bad = |why: String| ReferenceError::BadDate {
                table: spec.table.to_string(),
                column: spec.column.to_string(),
                row: offset + i,
                why,
            };
            match d {
                None => Ok(RValue::Null),
                Some(Err(why)) => Err(bad(why)),
                Some(Ok(d)) if DAYS.contains(&d) => Ok(RValue::Date(d as i32)),
                Some(Ok(d)) => Err(bad(format!(
                    "holds day {d}, outside 0001-01-01 to 9999-12-31"
                ))),
            }
        })
        .collect()
}

/// semantics.md "Decimals": Decimal128/Decimal256 and integer columns, each value
/// exactly (trailing fractional zeros dropped, never a digit), within the type's
/// digits; anything else is a data error naming the row.
fn read_decimals(
    array: &ArrayRef,
    spec: &ColumnSpec<'_>,
    offset: usize,
    precision: u8,
    scale: u8,
) -> Result<Vec<RValue>, ReferenceError> {
    use num_bigint::BigInt;
    let found = array.data_type();
    // (value, its scale) of each cell, in 256 bits through Decimal256's text.
    let (wide, from): (ArrayRef, i8) = match found {
        ArrowType::Decimal128(_, s) | ArrowType::Decimal256(_, s) => {
            (cast_to(array, &ArrowType::Decimal256(76, *s), spec)?, *s)
        }
        ArrowType::Int8
        | ArrowType::Int16
        | ArrowType::Int32
        | ArrowType::Int64
        | ArrowType::UInt8
        | ArrowType::UInt16
        | ArrowType::UInt32
        | ArrowType::UInt64 => (cast_to(array, &ArrowType::Decimal256(76, 0), spec)?, 0),
        found => return Err(bad_type(spec, found)),
    };
    let limit = num_traits::pow(BigInt::from(10), usize::from(precision));
    wide.as_primitive::<datafusion::arrow::datatypes::Decimal256Type>()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let Some(v) = v else {
                return Ok(RValue::Null);
            };
            let bad = |why: String| ReferenceError::BadDecimal {
                table: spec.table.to_string(),
                column: spec.column.to_string(),
                row: offset + i,
                why,
            };
            let mut x: BigInt = v
                .to_string()
                .parse()
                .map_err(|_| bad(format!("holds {v}")))?;
            let mut s = i16::from(from);
            while s > i16::from(scale) {
                let ten = BigInt::from(10);
                if (&x % &ten) != BigInt::from(0) {
                    return Err(bad(format!(
                        "holds {v}e{}, with more than {scale} digits after the point",
                        -from
                    )));
                }
                x /= ten;
                s -= 1;
            }
            while s < i16::from(scale) {
                x *= 10;
                s += 1;
            }
            if num_traits::Signed::abs(&x) >= limit {
                return Err(bad(format!(
                    "holds {v}e{}, more digits than decimal({precision}, {scale})",
                    -from
                )));
            }
            Ok(RValue::Dec(x, scale))
        })
        .collect()
}

/// semantics.md "Time": an integer counts the source's epoch unit; without one it is
/// microseconds only when it has 16 digits, and anything else is a data error.
fn read_integer_times(
    array: &ArrayRef,
    epoch: Option<EpochUnit>,
    spec: &ColumnSpec<'_>,
    offset: usize,
) -> Result<Vec<RValue>, ReferenceError> {
    let a = cast_to(array, &ArrowType::Int64, spec)?;
    a.as_primitive::<Int64Type>()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let Some(v) = v else { return Ok(RValue::Null) };
            let row = offset + i;
            let micros = match epoch {
                None if (1_000_000_000_000_000..10_000_000_000_000_000).contains(&v) => Ok(v),
                None => Err(ReferenceError::ImplausibleTime {
                    table: spec.table.to_string(),
                    column: spec.column.to_string(),
                    row,
                    value: v,
                }),
                Some(unit) => match unit {
                    EpochUnit::Seconds => v.checked_mul(1_000_000),
                    EpochUnit::Millis => v.checked_mul(1_000),
                    EpochUnit::Micros => Some(v),
                    EpochUnit::Nanos => Some(v.div_euclid(1_000)),
                }
                .ok_or_else(|| ReferenceError::TimeOutOfRange {
                    table: spec.table.to_string(),
                    column: spec.column.to_string(),
                    row,
                }),
            };
            micros.map(RValue::Ts)
        })
        .collect()
}

fn read_timestamps(
    array: &ArrayRef,
    unit: TimeUnit,
    spec: &ColumnSpec<'_>,
    offset: usize,
) -> Result<Vec<RValue>, ReferenceError> {
    let raw: Vec<Option<i64>> = match unit {
        TimeUnit::Second => array.as_primitive::<TimestampSecondType>().iter().collect(),
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .iter()
            .collect(),
        TimeUnit::Microsecond => array
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .collect(),
        TimeUnit::Nanosecond => array
            .as_primitive::<TimestampNanosecondType>()
            .iter()
            .collect(),
    };
    raw.into_iter()
        .enumerate()
        .map(|(i, v)| {
            let Some(v) = v else { return Ok(RValue::Null) };
            let micros = match unit {
                TimeUnit::Second => v.checked_mul(1_000_000),
                TimeUnit::Millisecond => v.checked_mul(1_000),
                TimeUnit::Microsecond => Some(v),
                TimeUnit::Nanosecond => Some(v.div_euclid(1_000)),
            };
            micros
                .map(RValue::Ts)
                .ok_or_else(|| ReferenceError::TimeOutOfRange {
                    table: spec.table.to_string(),
                    column: spec.column.to_string(),
                    row: offset + i,
                })
        })
        .collect()
}
