//! Times on the wire: what a request may send (RFC 3339, Feast's zone-less
//! `YYYY-MM-DD HH:MM:SS[.ffffff]` read as UTC, or an integer: counted in the source's
//! `epoch` unit, or, without one, 16-digit microseconds since the epoch, the rule of
//! `featc_runtime::row::time::epoch_micros`) and what a response says (RFC 3339 in
//! UTC, microseconds when there are some).

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use featc_runtime::ir::EpochUnit;
use featc_runtime::row::time::{epoch_micros, EpochError};

/// Why a value is not a time; each says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// A JSON number that is not an integer (as written).
    NotMicroseconds(String),
    /// A JSON value of another kind (`kind_of`'s name for it).
    Kind(&'static str),
    /// Text in none of the accepted spellings (as written).
    Text(String),
    /// An integer that is not a time in the unit it is read in.
    Integer(EpochError),
}

impl std::fmt::Display for TimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimeError::NotMicroseconds(n) => write!(
                f,
                "`{n}` is not a time: give integer microseconds since 1970-01-01T00:00:00Z or an RFC 3339 string"
            ),
            TimeError::Kind(kind) => write!(
                f,
                "{kind} is not a time: give an RFC 3339 string or integer microseconds"
            ),
            TimeError::Text(text) => write!(
                f,
                "`{text}` is not a time: expected RFC 3339 (e.g. 2024-03-01T12:00:00Z) or microseconds"
            ),
            TimeError::Integer(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TimeError {}

/// Microseconds since the Unix epoch, UTC, of a JSON time not tied to a source (a
/// read's `at`): an integer must be plausible microseconds.
pub fn parse_time(value: &serde_json::Value) -> Result<i64, TimeError> {
    parse_time_in(value, None)
}

/// Microseconds since the Unix epoch, UTC, of a JSON time of a source whose integer
/// times count `epoch` (its `epoch` clause; `None`: plausible microseconds only).
pub fn parse_time_in(
    value: &serde_json::Value,
    epoch: Option<EpochUnit>,
) -> Result<i64, TimeError> {
    match value {
        serde_json::Value::Number(n) => {
            let v = n
                .as_i64()
                .ok_or_else(|| TimeError::NotMicroseconds(n.to_string()))?;
            epoch_micros(v, epoch).map_err(TimeError::Integer)
        }
        serde_json::Value::String(s) => parse_time_text(s),
        other => Err(TimeError::Kind(kind_of(other))),
    }
}

/// A time written as text: RFC 3339 (any offset), or a date and time without an
/// offset (`T` or a space between them), read as UTC, or a date alone (its midnight).
pub fn parse_time_text(text: &str) -> Result<i64, TimeError> {
    let t = text.trim();
    let parsed = DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| {
            ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
                .or_else(|| {
                    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                })
                .map(|n| n.and_utc())
                .ok_or(())
        })
        .map_err(|_| TimeError::Text(text.to_string()))?;
    Ok(parsed.timestamp_micros())
}

/// A time as RFC 3339 in UTC (`2024-03-01T12:00:00Z`, `2024-03-01T12:00:00.000250Z`).
pub fn format_time(us: i64) -> String {
    match DateTime::from_timestamp_micros(us) {
        Some(d) => d.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => us.to_string(),
    }
}

/// Now, in microseconds since the epoch.
pub fn now_us() -> i64 {
    Utc::now().timestamp_micros()
}

/// How a JSON value is named in error messages.
pub fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_documented_spelling_reads_the_same_instant() {
        let us = 1_709_294_400_000_000; // 2024-03-01T12:00:00Z
        for text in [
            "2024-03-01T12:00:00Z",
            "2024-03-01T13:00:00+01:00",
            "2024-03-01 12:00:00",
            "2024-03-01T12:00:00",
            "2024-03-01 12:00:00.000000",
        ] {
            assert_eq!(parse_time(&json!(text)), Ok(us), "{text}");
        }
        assert_eq!(parse_time(&json!(us)), Ok(us));
        assert_eq!(parse_time(&json!("2024-03-01")), Ok(1_709_251_200_000_000));
        for (value, unit) in [
            (1_709_294_400_i64, EpochUnit::Seconds),
            (1_709_294_400_000, EpochUnit::Millis),
            (us, EpochUnit::Micros),
            (1_709_294_400_000_000_999, EpochUnit::Nanos),
        ] {
            assert_eq!(parse_time_in(&json!(value), Some(unit)), Ok(us), "{unit:?}");
        }
    }

    #[test]
    fn implausible_integers_are_refused_naming_the_unit_they_look_like() {
        let seconds = parse_time(&json!(1_711_842_900)).unwrap_err().to_string();
        assert!(seconds.contains("1711842900"), "{seconds}");
        assert!(seconds.contains("`epoch s`"), "{seconds}");
        let millis = parse_time(&json!(1_711_842_900_000_i64)).unwrap_err();
        assert!(millis.to_string().contains("`epoch ms`"), "{millis}");
        let nanos = parse_time(&json!(1_711_842_900_000_000_000_i64)).unwrap_err();
        assert!(nanos.to_string().contains("`epoch ns`"), "{nanos}");
        assert!(parse_time(&json!(0)).is_err());
        assert!(parse_time(&json!(-1_711_842_900_000_000_i64)).is_err());
        assert_eq!(
            parse_time_in(&json!(i64::MAX), Some(EpochUnit::Seconds)),
            Err(TimeError::Integer(EpochError::Overflow {
                value: i64::MAX,
                unit: EpochUnit::Seconds
            }))
        );
    }

    #[test]
    fn fractions_survive_both_ways() {
        let us = 1_709_294_400_000_250;
        assert_eq!(format_time(us), "2024-03-01T12:00:00.000250Z");
        assert_eq!(parse_time_text(&format_time(us)), Ok(us));
        assert_eq!(format_time(-1), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn non_times_are_refused_with_a_reason() {
        assert!(parse_time(&json!(1.5)).is_err());
        assert!(parse_time(&json!(true))
            .unwrap_err()
            .to_string()
            .contains("a boolean"));
        assert!(parse_time(&json!("yesterday"))
            .unwrap_err()
            .to_string()
            .contains("RFC 3339"));
    }
}
