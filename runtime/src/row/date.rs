//! Dates (docs/semantics.md, "Dates"): a calendar day as days since 1970-01-01
//! (Arrow `Date32`), from 0001-01-01 to 9999-12-31; read from `Date32`, whole-day
//! `Date64` and `YYYY-MM-DD` text, printed as `YYYY-MM-DD`. The one parser and
//! printer every path uses (CSV, pushes, Kafka, outputs, Redis, messages).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Date32Array};
use datafusion::arrow::datatypes::{DataType as ArrowType, Date32Type, Date64Type};

/// The day of 0001-01-01, the least date.
pub const MIN_DAY: i32 = -719_162;
/// The day of 9999-12-31, the greatest date.
pub const MAX_DAY: i32 = 2_932_896;

const DAY_MS: i64 = 86_400_000;
const DAY_US: i64 = 86_400_000_000;

/// Why a value is not a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// Text that is not a real day written `YYYY-MM-DD`.
    Text(String),
    /// A `Date64` with a time of day (milliseconds since 1970).
    NotWholeDay(i64),
    /// A day before 0001-01-01 or after 9999-12-31 (days since 1970).
    OutOfRange(i64),
    /// A column of another type.
    NotADate(ArrowType),
}

impl std::fmt::Display for DateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DateError::Text(t) => write!(f, "cannot read '{t}' as date (YYYY-MM-DD)"),
            DateError::NotWholeDay(ms) => write!(
                f,
                "the Date64 value {ms} ms has a time of day; a date is a whole day"
            ),
            DateError::OutOfRange(d) => write!(
                f,
                "the date {d} days after 1970-01-01 is outside 0001-01-01 to 9999-12-31"
            ),
            DateError::NotADate(ty) => write!(f, "has type {ty}, expected date"),
        }
    }
}

impl std::error::Error for DateError {}

/// A date column's value at `row` could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowDateError {
    pub row: usize,
    pub error: DateError,
}

impl std::fmt::Display for RowDateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: {}", self.row, self.error)
    }
}

/// `day` when it lies in 0001-01-01..=9999-12-31.
pub fn in_range(day: i64) -> Result<i32, DateError> {
    match i32::try_from(day) {
        Ok(d) if (MIN_DAY..=MAX_DAY).contains(&d) => Ok(d),
        _ => Err(DateError::OutOfRange(day)),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian (year, month, day); Howard
/// Hinnant's `days_from_civil`, exact integer arithmetic.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of days since 1970-01-01 (`civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A date written exactly `YYYY-MM-DD` (a real day, year 0001 to 9999), as days
/// since 1970-01-01.
pub fn parse_date(text: &str) -> Result<i32, DateError> {
    let bad = || DateError::Text(text.to_string());
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |s: &[u8]| -> Option<i64> {
        s.iter().try_fold(0i64, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (Some(y), Some(m), Some(d)) = (num(&b[0..4]), num(&b[5..7]), num(&b[8..10])) else {
        return Err(bad());
    };
    if y < 1 || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err(bad());
    }
    in_range(days_from_civil(y, m, d)).map_err(|_| bad())
}

/// `day` (days since 1970-01-01) as `YYYY-MM-DD`; a day outside the range (which
/// no path reads) is printed with its sign and more digits rather than failing.
pub fn format_date(day: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(day));
    if (1..=9999).contains(&y) {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:+}-{m:02}-{d:02}")
    }
}

/// The UTC day of a time in microseconds since the epoch (floored).
pub fn day_of_micros(us: i64) -> i64 {
    us.div_euclid(DAY_US)
}

/// Whether `ty` is an Arrow type a `date` column may be read from (`to_days`).
pub fn is_date_input(ty: &ArrowType) -> bool {
    matches!(
        ty,
        ArrowType::Date32
            | ArrowType::Date64
            | ArrowType::Utf8
            | ArrowType::LargeUtf8
            | ArrowType::Utf8View
    )
}

/// A column as featc's dates (`Date32`, every value in range): `Date32` checked,
/// whole-day `Date64` divided, text parsed by `parse_date`. Nulls stay null; the
/// first value that is not a date is the error, with its row.
pub fn to_days(array: &ArrayRef) -> Result<ArrayRef, RowDateError> {
    let at = |row: usize| move |error: DateError| RowDateError { row, error };
    let mut out = Vec::with_capacity(array.len());
    match array.data_type() {
        ArrowType::Date32 => {
            let days = array.as_primitive::<Date32Type>();
            if days
                .iter()
                .flatten()
                .all(|d| (MIN_DAY..=MAX_DAY).contains(&d))
            {
                return Ok(Arc::clone(array));
            }
            for (row, d) in days.iter().enumerate() {
                out.push(
                    d.map(|d| in_range(i64::from(d)).map_err(at(row)))
                        .transpose()?,
                );
            }
        }
        ArrowType::Date64 => {
            for (row, ms) in array.as_primitive::<Date64Type>().iter().enumerate() {
                out.push(ms.map(|ms| whole_day(ms).map_err(at(row))).transpose()?);
            }
        }
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => {
            let text = datafusion::arrow::compute::cast(array, &ArrowType::Utf8)
                .map_err(|_| at(0)(DateError::NotADate(array.data_type().clone())))?;
            for (row, t) in text.as_string::<i32>().iter().enumerate() {
                out.push(t.map(|t| parse_date(t).map_err(at(row))).transpose()?);
            }
        }
        other => return Err(at(0)(DateError::NotADate(other.clone()))),
    }
    Ok(Arc::new(Date32Array::from(out)))
}

/// A `Date64` (milliseconds) as a day, when it is a whole day in range.
fn whole_day(ms: i64) -> Result<i32, DateError> {
    if ms.rem_euclid(DAY_MS) != 0 {
        return Err(DateError::NotWholeDay(ms));
    }
    in_range(ms.div_euclid(DAY_MS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Date64Array, StringArray};

    #[test]
    fn text_round_trips_over_the_whole_range() {
        assert_eq!(parse_date("1970-01-01"), Ok(0));
        assert_eq!(parse_date("1969-12-31"), Ok(-1));
        assert_eq!(parse_date("0001-01-01"), Ok(MIN_DAY));
        assert_eq!(parse_date("9999-12-31"), Ok(MAX_DAY));
        assert_eq!(parse_date("2024-02-29"), Ok(19_782));
        for day in (MIN_DAY..=MAX_DAY)
            .step_by(997)
            .chain([MIN_DAY, MAX_DAY, 0])
        {
            assert_eq!(parse_date(&format_date(day)), Ok(day), "{day}");
        }
    }

    #[test]
    fn only_real_days_written_exactly_are_dates() {
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-3-01",
            "0000-01-01",
            " 2024-01-01",
            "2024-01-01T00:00:00",
            "20240101",
            "+202-01-01",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn columns_convert_exactly_or_name_the_row() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![Some("2024-01-02"), None]));
        let days = to_days(&text).unwrap();
        assert_eq!(
            days.as_primitive::<Date32Type>().iter().collect::<Vec<_>>(),
            vec![Some(19_724), None]
        );
        let ms: ArrayRef = Arc::new(Date64Array::from(vec![Some(-DAY_MS), Some(DAY_MS + 1)]));
        assert_eq!(
            to_days(&ms),
            Err(RowDateError {
                row: 1,
                error: DateError::NotWholeDay(DAY_MS + 1)
            })
        );
        let far: ArrayRef = Arc::new(Date32Array::from(vec![0, MAX_DAY + 1]));
        assert_eq!(to_days(&far).map_err(|e| e.row), Err(1));
        assert_eq!(day_of_micros(-1), -1);
        assert_eq!(day_of_micros(DAY_US), 1);
    }
}
