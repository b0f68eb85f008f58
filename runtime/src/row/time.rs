//! Time: any Arrow timestamp converted to featc's time type (microseconds, UTC), and a
//! time printed as ISO 8601.
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

/// Why a time column could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeError {
    /// The column is not an Arrow timestamp.
    NotATimestamp(DataType),
    /// The value at `row` overflows int64 microseconds.
    Overflow { row: usize },
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
}
