//! Time: any Arrow timestamp, or integer counted in a source's epoch unit, converted to
//! featc's time type (microseconds, UTC), and a time printed as ISO 8601.
//!
//! Integer times (docs/semantics.md, "Time"): with a source's `epoch U` clause, an
//! integer counts `U` since the Unix epoch and is accepted when it converts without
//! overflow; without one, it is microseconds only when it has 16 digits (in
//! [10^15, 10^16): 2001-09-09 to 2286-11-20), and anything else is refused, naming the
//! unit it looks like. `epoch_micros` is that rule, once, for every path.
//!
//! semantics.md: inputs in other units or zones are converted at the source boundary;
//! nanoseconds are floored (not truncated toward zero, which differs before 1970); a
//! value that does not fit is a data error. A timestamp without a zone is read as UTC.
//! A date (Arrow `Date32`/`Date64`) is its midnight UTC, as SQL casts a date to a
//! timestamp.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use std::sync::Arc;

use super::types::UTC;
use crate::ir::EpochUnit;

/// Why a time column could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeError {
    /// The column is not an Arrow timestamp.
    NotATimestamp(DataType),
    /// The value at `row` overflows int64 microseconds.
    Overflow { row: usize },
    /// The integer at `row` is not a time (see `epoch_micros`).
    Integer { row: usize, error: EpochError },
}

impl std::fmt::Display for TimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimeError::NotATimestamp(ty) => write!(f, "has type {ty}, expected timestamp"),
            TimeError::Overflow { row } => {
                write!(f, "row {row}: the time does not fit in microseconds")
            }
            TimeError::Integer { row, error } => write!(f, "row {row}: {error}"),
        }
    }
}

impl std::error::Error for TimeError {}

/// Why an integer is not a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochError {
    /// No unit was declared and `value` is not 16-digit microseconds; `looks_like`
    /// is the unit its digit count suggests, if any.
    Implausible {
        value: i64,
        looks_like: Option<EpochUnit>,
    },
    /// `value` in the declared `unit` does not fit in int64 microseconds.
    Overflow { value: i64, unit: EpochUnit },
}

/// The least and the bound past the greatest integer read as microseconds without a
/// declared unit: the 16-digit numbers, 2001-09-09T01:46:40Z to 2286-11-20T17:46:40Z.
pub const PLAUSIBLE_MICROS: std::ops::Range<i64> = 1_000_000_000_000_000..10_000_000_000_000_000;

impl std::fmt::Display for EpochError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EpochError::Implausible { value, looks_like } => {
                write!(
                    f,
                    "the integer time {value} is not 16-digit microseconds since 1970 (2001-09-09 to 2286-11-20)"
                )?;
                match looks_like {
                    Some(unit) => write!(
                        f,
                        "; {} digits look like {}: declare `epoch {}` on the source, or send RFC 3339 text",
                        unit.present_digits(),
                        unit_words(*unit),
                        unit.name()
                    ),
                    None => write!(
                        f,
                        "; declare the unit on the source (`epoch s`, `epoch ms`, `epoch us` or `epoch ns`), or send RFC 3339 text"
                    ),
                }
            }
            EpochError::Overflow { value, unit } => write!(
                f,
                "the integer time {value} ({}) does not fit in microseconds",
                unit_words(*unit)
            ),
        }
    }
}

impl std::error::Error for EpochError {}

fn unit_words(unit: EpochUnit) -> &'static str {
    match unit {
        EpochUnit::Seconds => "seconds",
        EpochUnit::Millis => "milliseconds",
        EpochUnit::Micros => "microseconds",
        EpochUnit::Nanos => "nanoseconds",
    }
}

/// An integer time in microseconds: `value` counted in `unit` since the Unix epoch
/// (nanoseconds floored), or, with no unit declared, `value` itself when it is
/// plausible microseconds (`PLAUSIBLE_MICROS`). The one rule every path applies.
pub fn epoch_micros(value: i64, unit: Option<EpochUnit>) -> Result<i64, EpochError> {
    let overflow = |unit| EpochError::Overflow { value, unit };
    match unit {
        None if PLAUSIBLE_MICROS.contains(&value) => Ok(value),
        None => Err(EpochError::Implausible {
            value,
            looks_like: looks_like(value),
        }),
        Some(EpochUnit::Seconds) => value
            .checked_mul(1_000_000)
            .ok_or(overflow(EpochUnit::Seconds)),
        Some(EpochUnit::Millis) => value.checked_mul(1_000).ok_or(overflow(EpochUnit::Millis)),
        Some(EpochUnit::Micros) => Ok(value),
        Some(EpochUnit::Nanos) => Ok(value.div_euclid(1_000)),
    }
}

/// The unit whose present-day times have as many digits as `value` (positive only).
fn looks_like(value: i64) -> Option<EpochUnit> {
    if value <= 0 {
        return None;
    }
    let digits = value.ilog10() + 1;
    EpochUnit::ALL
        .into_iter()
        .find(|u| u.present_digits() == digits && *u != EpochUnit::Micros)
}

/// Whether `ty` is an integer type a time column may hold (counted in the source's
/// epoch unit): the integer types an int64 column accepts.
pub fn is_integer_time(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
    )
}

/// `to_micros`, also taking integer arrays (`is_integer_time`), read by `epoch_micros`
/// with the source's `unit`, and text (a CSV cell: an integer as above, anything else
/// as a timestamp's text, null when it is neither).
pub fn to_micros_in(array: &ArrayRef, unit: Option<EpochUnit>) -> Result<ArrayRef, TimeError> {
    let ty = array.data_type();
    if !is_integer_time(ty) && *ty != DataType::Utf8 {
        return to_micros(array);
    }
    if *ty == DataType::Utf8 {
        return text_to_micros(array.as_string::<i32>(), unit);
    }
    let ints = datafusion::arrow::compute::cast(array, &DataType::Int64)
        .map_err(|_| TimeError::NotATimestamp(ty.clone()))?;
    let mut out = Vec::with_capacity(ints.len());
    for (row, v) in ints
        .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
        .iter()
        .enumerate()
    {
        out.push(match v {
            None => None,
            Some(v) => {
                Some(epoch_micros(v, unit).map_err(|error| TimeError::Integer { row, error })?)
            }
        });
    }
    Ok(Arc::new(
        TimestampMicrosecondArray::from(out).with_timezone(UTC),
    ))
}

/// Text cells as times: an integer by `epoch_micros`, other text by Arrow's timestamp
/// parser (RFC 3339 and its relatives, read as UTC without an offset); a cell that is
/// neither is null (callers find it by its new null).
fn text_to_micros(
    text: &datafusion::arrow::array::StringArray,
    unit: Option<EpochUnit>,
) -> Result<ArrayRef, TimeError> {
    let parsed = datafusion::arrow::compute::cast(text, &super::types::timestamp_type())
        .unwrap_or_else(|_| {
            datafusion::arrow::array::new_null_array(&super::types::timestamp_type(), text.len())
        });
    let parsed = parsed.as_primitive::<TimestampMicrosecondType>();
    let mut out = Vec::with_capacity(text.len());
    for (row, cell) in text.iter().enumerate() {
        out.push(match cell {
            None => None,
            Some(cell) => match cell.trim().parse::<i64>() {
                Ok(v) => {
                    Some(epoch_micros(v, unit).map_err(|error| TimeError::Integer { row, error })?)
                }
                Err(_) if parsed.is_valid(row) => Some(parsed.value(row)),
                Err(_) => None,
            },
        });
    }
    Ok(Arc::new(
        TimestampMicrosecondArray::from(out).with_timezone(UTC),
    ))
}

const DAY_US: i64 = 86_400_000_000;

/// Converts a timestamp array of any unit/zone to `Timestamp(µs, "UTC")`; nulls stay
/// null. Arrays that already have that type are returned as is (no copy).
pub fn to_micros(array: &ArrayRef) -> Result<ArrayRef, TimeError> {
    let (unit, tz) = match array.data_type() {
        DataType::Timestamp(unit, tz) => (unit, tz),
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().iter();
            let out = scale(days.map(|d| d.map(i64::from)), DAY_US)?;
            return Ok(Arc::new(out.with_timezone(UTC)));
        }
        DataType::Date64 => {
            let ms = array.as_primitive::<Date64Type>().iter();
            return Ok(Arc::new(scale(ms, 1_000)?.with_timezone(UTC)));
        }
        other => return Err(TimeError::NotATimestamp(other.clone())),
    };
    if *unit == TimeUnit::Microsecond && tz.as_deref() == Some(UTC) {
        return Ok(Arc::clone(array));
    }
    let out: TimestampMicrosecondArray = match unit {
        TimeUnit::Microsecond => array
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .collect(),
        TimeUnit::Nanosecond => array
            .as_primitive::<TimestampNanosecondType>()
            .iter()
            .map(|v| v.map(|v| v.div_euclid(1000)))
            .collect(),
        TimeUnit::Millisecond => scale(
            array.as_primitive::<TimestampMillisecondType>().iter(),
            1_000,
        )?,
        TimeUnit::Second => scale(
            array.as_primitive::<TimestampSecondType>().iter(),
            1_000_000,
        )?,
    };
    Ok(Arc::new(out.with_timezone(UTC)))
}

fn scale(
    values: impl Iterator<Item = Option<i64>>,
    factor: i64,
) -> Result<TimestampMicrosecondArray, TimeError> {
    let mut out = Vec::new();
    for (row, v) in values.enumerate() {
        out.push(match v {
            None => None,
            Some(v) => Some(v.checked_mul(factor).ok_or(TimeError::Overflow { row })?),
        });
    }
    Ok(TimestampMicrosecondArray::from(out))
}

/// A time in microseconds as ISO 8601 in UTC (`2024-03-01T12:00:00Z`, fractions of a
/// second when there are some), the form every message prints times in.
pub fn iso8601(us: i64) -> String {
    let one = TimestampMicrosecondArray::from(vec![us]).with_timezone(UTC);
    datafusion::arrow::util::display::array_value_to_string(&one, 0)
        .unwrap_or_else(|_| format!("{us} µs after 1970-01-01T00:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::types::{is_timestamp, timestamp_type};
    use datafusion::arrow::array::{
        Date32Array, Date64Array, TimestampNanosecondArray, TimestampSecondArray,
    };

    #[test]
    fn dates_are_their_midnight_utc() {
        let d: ArrayRef = Arc::new(Date32Array::from(vec![Some(-1), Some(19_723), None]));
        let us = to_micros(&d).unwrap();
        let us = us.as_primitive::<TimestampMicrosecondType>();
        assert_eq!(
            us.iter().collect::<Vec<_>>(),
            vec![Some(-DAY_US), Some(19_723 * DAY_US), None]
        );
        assert_eq!(us.data_type(), &timestamp_type());
        let ms: ArrayRef = Arc::new(Date64Array::from(vec![Some(86_400_000), Some(i64::MAX)]));
        assert_eq!(to_micros(&ms).unwrap_err(), TimeError::Overflow { row: 1 });
        assert!(is_timestamp(&DataType::Date32) && is_timestamp(&DataType::Date64));
    }

    #[test]
    fn nanoseconds_are_floored_and_seconds_scaled() {
        let ns: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![
            Some(-1),
            Some(1999),
            None,
        ]));
        let us = to_micros(&ns).unwrap();
        let us = us.as_primitive::<TimestampMicrosecondType>();
        assert_eq!(us.iter().collect::<Vec<_>>(), vec![Some(-1), Some(1), None]);
        assert_eq!(us.data_type(), &timestamp_type());

        let s: ArrayRef = Arc::new(TimestampSecondArray::from(vec![Some(2), Some(i64::MAX)]));
        assert_eq!(to_micros(&s).unwrap_err(), TimeError::Overflow { row: 1 });
    }

    const US: i64 = 1_711_842_900_000_000; // 2024-03-30T23:55:00Z

    #[test]
    fn integers_count_the_declared_unit() {
        for (value, unit) in [
            (1_711_842_900, EpochUnit::Seconds),
            (1_711_842_900_000, EpochUnit::Millis),
            (US, EpochUnit::Micros),
            (1_711_842_900_000_000_999, EpochUnit::Nanos),
        ] {
            assert_eq!(epoch_micros(value, Some(unit)), Ok(US), "{unit:?}");
        }
        // Any value that converts is taken with a unit, 1970 and before included;
        // nanoseconds are floored like a nanosecond timestamp's.
        assert_eq!(epoch_micros(0, Some(EpochUnit::Seconds)), Ok(0));
        assert_eq!(epoch_micros(-1, Some(EpochUnit::Nanos)), Ok(-1));
        assert_eq!(
            epoch_micros(i64::MAX / 1000 + 1, Some(EpochUnit::Millis)),
            Err(EpochError::Overflow {
                value: i64::MAX / 1000 + 1,
                unit: EpochUnit::Millis
            })
        );
    }

    #[test]
    fn without_a_unit_only_sixteen_digits_are_microseconds() {
        assert_eq!(epoch_micros(US, None), Ok(US));
        assert_eq!(
            epoch_micros(PLAUSIBLE_MICROS.start, None),
            Ok(PLAUSIBLE_MICROS.start)
        );
        assert_eq!(
            epoch_micros(PLAUSIBLE_MICROS.end - 1, None),
            Ok(PLAUSIBLE_MICROS.end - 1)
        );
        let refused = |v: i64| epoch_micros(v, None).unwrap_err();
        let looks = |v: i64| match refused(v) {
            EpochError::Implausible { looks_like, .. } => looks_like,
            other => panic!("{other:?}"),
        };
        assert_eq!(looks(1_711_842_900), Some(EpochUnit::Seconds));
        assert_eq!(looks(1_711_842_900_000), Some(EpochUnit::Millis));
        assert_eq!(looks(1_711_842_900_000_000_000), Some(EpochUnit::Nanos));
        assert_eq!(looks(PLAUSIBLE_MICROS.start - 1), None);
        assert_eq!(looks(PLAUSIBLE_MICROS.end), None);
        assert_eq!(looks(0), None);
        assert_eq!(looks(-US), None);
        let text = refused(1_711_842_900).to_string();
        assert!(
            text.contains("1711842900") && text.contains("`epoch s`"),
            "{text}"
        );
    }

    #[test]
    fn integer_and_text_columns_read_by_the_same_rule() {
        use datafusion::arrow::array::{Int32Array, Int64Array, StringArray};
        let values = |a: ArrayRef| {
            a.as_primitive::<TimestampMicrosecondType>()
                .iter()
                .collect::<Vec<_>>()
        };
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(1_711_842_900), None]));
        let got = to_micros_in(&ints, Some(EpochUnit::Seconds)).unwrap();
        assert_eq!(got.data_type(), &timestamp_type());
        assert_eq!(values(got), vec![Some(US), None]);
        let narrow: ArrayRef = Arc::new(Int32Array::from(vec![1_711_842_900]));
        assert_eq!(
            values(to_micros_in(&narrow, Some(EpochUnit::Seconds)).unwrap()),
            vec![Some(US)]
        );
        assert!(matches!(
            to_micros_in(&ints, None),
            Err(TimeError::Integer {
                row: 0,
                error: EpochError::Implausible { .. }
            })
        ));
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some("1711842900"),
            Some("2024-03-30T23:55:00Z"),
            Some("2024-03-30 23:55:00"),
            None,
            Some("yesterday"),
        ]));
        assert_eq!(
            values(to_micros_in(&text, Some(EpochUnit::Seconds)).unwrap()),
            vec![Some(US), Some(US), Some(US), None, None]
        );
        assert!(matches!(
            to_micros_in(&text, None),
            Err(TimeError::Integer { row: 0, .. })
        ));
        // Timestamps are not integers: a unit changes nothing for them.
        let ts: ArrayRef = Arc::new(TimestampSecondArray::from(vec![1_711_842_900]));
        assert_eq!(
            values(to_micros_in(&ts, Some(EpochUnit::Nanos)).unwrap()),
            vec![Some(US)]
        );
    }
}
