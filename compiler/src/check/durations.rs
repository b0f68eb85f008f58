//! Duration literals (`500ms`, `7d`) to exact microsecond counts.

use super::error::{CheckError, DurationProblem};
use featc_grammar::ast::DurationLit;

/// Microseconds per unit. Durations are exact: a day is always 86 400 s.
const UNITS: &[(&str, i64)] = &[
    ("us", 1),
    ("ms", 1_000),
    ("s", 1_000_000),
    ("m", 60_000_000),
    ("h", 3_600_000_000),
    ("d", 86_400_000_000),
    ("w", 604_800_000_000),
];

/// Units people write for calendar periods, which have no fixed length.
const CALENDAR: &[&str] = &[
    "mo", "mon", "month", "months", "y", "yr", "year", "years", "q",
];

/// Whether a zero duration is meaningful where the literal is written: a window or
/// a ttl must be positive, an allowed lateness may be zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zero {
    Allowed,
    Rejected,
}

/// The literal in microseconds.
pub fn micros(lit: &DurationLit, zero: Zero) -> Result<i64, CheckError> {
    let err = |problem| CheckError::InvalidDuration {
        text: lit.text.clone(),
        span: lit.span,
        problem,
    };
    let split = lit
        .text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lit.text.len());
    let (digits, unit) = lit.text.split_at(split);
    if digits.is_empty() || unit.is_empty() || !unit.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(err(DurationProblem::Malformed));
    }
    let Some(&(_, per_unit)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        return Err(err(
            if CALENDAR.contains(&unit.to_ascii_lowercase().as_str()) {
                DurationProblem::Calendar(unit.to_string())
            } else {
                DurationProblem::UnknownUnit(unit.to_string())
            },
        ));
    };
    let count: i64 = digits.parse().map_err(|_| err(DurationProblem::Overflow))?;
    let total = count
        .checked_mul(per_unit)
        .ok_or_else(|| err(DurationProblem::Overflow))?;
    if total == 0 && zero == Zero::Rejected {
        return Err(err(DurationProblem::Zero));
    }
    Ok(total)
}

/// Durations are printed by the runtime's printer, which the server shares.
pub use featc_runtime::row::duration::display;

#[cfg(test)]
mod tests {
    use super::*;
    use featc_grammar::ast::Span;

    fn parse(text: &str, zero: Zero) -> Result<i64, DurationProblem> {
        let lit = DurationLit {
            text: text.into(),
            span: Span::new(0, 0, text.len()),
        };
        micros(&lit, zero).map_err(|e| match e {
            CheckError::InvalidDuration { problem, .. } => problem,
            other => panic!("unexpected {other:?}"),
        })
    }

    #[test]
    fn units_and_problems() {
        assert_eq!(parse("500ms", Zero::Rejected), Ok(500_000));
        assert_eq!(parse("7d", Zero::Rejected), Ok(604_800_000_000));
        assert_eq!(parse("1w", Zero::Rejected), Ok(604_800_000_000));
        assert_eq!(parse("0s", Zero::Allowed), Ok(0));
        assert_eq!(parse("0s", Zero::Rejected), Err(DurationProblem::Zero));
        assert_eq!(
            parse("7x", Zero::Rejected),
            Err(DurationProblem::UnknownUnit("x".into()))
        );
        assert_eq!(
            parse("1mo", Zero::Rejected),
            Err(DurationProblem::Calendar("mo".into()))
        );
        assert_eq!(
            parse("99999999999999999999d", Zero::Rejected),
            Err(DurationProblem::Overflow)
        );
        assert_eq!(
            parse("999999999999w", Zero::Rejected),
            Err(DurationProblem::Overflow)
        );
        assert_eq!(parse("d", Zero::Rejected), Err(DurationProblem::Malformed));
    }
}
