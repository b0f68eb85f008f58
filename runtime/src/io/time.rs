//! Conversion of any Arrow timestamp to featc's time type: microseconds, UTC.
//!
//! semantics.md: inputs in other units or zones are converted at the source boundary;
//! nanoseconds are floored (not truncated toward zero, which differs before 1970); a
//! value that does not fit is a data error. A timestamp without a zone is read as UTC.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{
    DataType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use std::sync::Arc;

use crate::expr::UTC;

/// Why a time column could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeError {
    /// The column is not an Arrow timestamp.
    NotATimestamp(DataType),
    /// The value at `row` overflows int64 microseconds.
    Overflow { row: usize },
}

/// True when `ty` can be converted by `to_micros`.
pub fn is_timestamp(ty: &DataType) -> bool {
    matches!(ty, DataType::Timestamp(_, _))
}

/// Converts a timestamp array of any unit/zone to `Timestamp(µs, "UTC")`; nulls stay
/// null. Arrays that already have that type are returned as is (no copy).
pub fn to_micros(array: &ArrayRef) -> Result<ArrayRef, TimeError> {
    let DataType::Timestamp(unit, tz) = array.data_type() else {
        return Err(TimeError::NotATimestamp(array.data_type().clone()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{TimestampNanosecondArray, TimestampSecondArray};

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
        assert_eq!(us.data_type(), &crate::expr::timestamp_type());

        let s: ArrayRef = Arc::new(TimestampSecondArray::from(vec![Some(2), Some(i64::MAX)]));
        assert_eq!(to_micros(&s).unwrap_err(), TimeError::Overflow { row: 1 });
    }
}
