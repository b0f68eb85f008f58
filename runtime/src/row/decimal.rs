//! Decimals (docs/semantics.md, "Decimals"): an i128 unscaled value `u` worth
//! `u * 10^-s`. The one text reader and printer every path uses (CSV, pushes, Kafka,
//! outputs, Redis, messages), the exact conversion of Arrow columns into
//! `Decimal128(p, s)`, the exact arithmetic of `+ - *` and the conversion to float64.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Array};
use datafusion::arrow::datatypes::{
    i256, DataType as ArrowType, Decimal128Type, Decimal256Type, Int16Type, Int32Type, Int64Type,
    Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};

/// `10^n` for `n <= 38` (10^38 < i128::MAX); saturates above, where no caller asks.
pub fn pow10(n: u8) -> i128 {
    10i128.checked_pow(u32::from(n)).unwrap_or(i128::MAX)
}

fn pow10_wide(n: u8) -> i256 {
    i256::from_i128(10).wrapping_pow(u32::from(n))
}

/// Whether `u` has at most `precision` digits.
pub fn fits(u: i128, precision: u8) -> bool {
    u.unsigned_abs() < pow10(precision).unsigned_abs()
}

fn fits_wide(u: i256, precision: u8) -> Option<i128> {
    u.to_i128().filter(|&v| fits(v, precision))
}

/// Why a value is not a decimal of the declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecimalError {
    /// Text that is not a decimal number (`-12.30`, `5`, `.5`).
    Text(String),
    /// A value with more fractional digits than the scale (the value, as text).
    TooManyFractionDigits { value: String, scale: u8 },
    /// A value with more integer digits than `precision - scale` (the value, as text).
    TooManyDigits {
        value: String,
        precision: u8,
        scale: u8,
    },
    /// A column of another type.
    NotADecimal(ArrowType),
}

impl std::fmt::Display for DecimalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecimalError::Text(t) => write!(f, "cannot read '{t}' as a decimal number"),
            DecimalError::TooManyFractionDigits { value, scale } => write!(
                f,
                "{value} has more than {scale} digits after the point (decimals are never rounded)"
            ),
            DecimalError::TooManyDigits {
                value,
                precision,
                scale,
            } => write!(
                f,
                "{value} does not fit decimal({precision}, {scale}) (at most {} digits before the point)",
                precision - scale
            ),
            DecimalError::NotADecimal(ty) => write!(f, "has type {ty}, expected a decimal"),
        }
    }
}

impl std::error::Error for DecimalError {}

/// A decimal column's value at `row` could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowDecimalError {
    pub row: usize,
    pub error: DecimalError,
}

impl std::fmt::Display for RowDecimalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: {}", self.row, self.error)
    }
}

/// Decimal text (`-12.30`, `+5`, `5.`, `.5`: a sign, digits, a point, digits; at
/// least one digit, no exponent, no spaces) as the unscaled value of
/// `decimal(precision, scale)`: exact, or an error (never rounded; fractional zeros
/// beyond the scale are accepted).
pub fn parse_decimal(text: &str, precision: u8, scale: u8) -> Result<i128, DecimalError> {
    let bad = || DecimalError::Text(text.to_string());
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > usize::from(scale) {
        return Err(DecimalError::TooManyFractionDigits {
            value: text.to_string(),
            scale,
        });
    }
    let int = int.trim_start_matches('0');
    if int.len() > usize::from(precision - scale) {
        return Err(DecimalError::TooManyDigits {
            value: text.to_string(),
            precision,
            scale,
        });
    }
    // At most 38 digits in all now: the accumulation below cannot overflow.
    let mut u: i128 = 0;
    for c in int.bytes().chain(frac.bytes()) {
        u = u * 10 + i128::from(c - b'0');
    }
    u *= pow10(scale - frac.len() as u8);
    Ok(if negative { -u } else { u })
}

/// `u * 10^-scale` written with exactly `scale` fractional digits (`-12.30`, `0.05`,
/// `7` for scale 0).
pub fn format_decimal(u: i128, scale: u8) -> String {
    let digits = u.unsigned_abs().to_string();
    let sign = if u < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let scale = usize::from(scale);
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// The float64 nearest `u * 10^-scale` (ties to even): Rust's correctly rounded
/// reading of the exact text, so every path gets the same bits.
pub fn to_f64(u: i128, scale: u8) -> f64 {
    let text = format!("{}e-{scale}", u);
    text.parse::<f64>().unwrap_or(f64::NAN)
}

/// `u` (scale `from`) at scale `to`, exactly: `None` when it does not fit an i128 or
/// (for a smaller scale) is not exact.
pub fn rescale(u: i128, from: u8, to: u8) -> Option<i128> {
    if to >= from {
        u.checked_mul(pow10(to - from))
    } else {
        let d = pow10(from - to);
        (u % d == 0).then_some(u / d)
    }
}

/// `a + b` (or `a - b` with `subtract`) of scales `sa`, `sb` at scale `scale` (at
/// least both), when it has at most `precision` digits.
pub fn add(
    a: i128,
    sa: u8,
    b: i128,
    sb: u8,
    subtract: bool,
    precision: u8,
    scale: u8,
) -> Option<i128> {
    let x = i256::from_i128(a).wrapping_mul(pow10_wide(scale.checked_sub(sa)?));
    let y = i256::from_i128(b).wrapping_mul(pow10_wide(scale.checked_sub(sb)?));
    let r = if subtract {
        x.wrapping_sub(y)
    } else {
        x.wrapping_add(y)
    };
    fits_wide(r, precision)
}

/// `a * b` (its scale is the sum of the operands'), when it has at most `precision`
/// digits.
pub fn mul(a: i128, b: i128, precision: u8) -> Option<i128> {
    fits_wide(
        i256::from_i128(a).wrapping_mul(i256::from_i128(b)),
        precision,
    )
}

/// Whether `ty` is an Arrow type a `decimal` column may be read from (`to_decimal`):
/// decimals, integers, and text where a path parses it.
pub fn is_decimal_input(ty: &ArrowType) -> bool {
    matches!(
        ty,
        ArrowType::Decimal128(..)
            | ArrowType::Decimal256(..)
            | ArrowType::Int8
            | ArrowType::Int16
            | ArrowType::Int32
            | ArrowType::Int64
            | ArrowType::UInt8
            | ArrowType::UInt16
            | ArrowType::UInt32
            | ArrowType::UInt64
            | ArrowType::Utf8
            | ArrowType::LargeUtf8
            | ArrowType::Utf8View
    )
}

/// A value `u` of scale `from` (256 bits wide) as `decimal(precision, scale)`.
fn convert(u: i256, from: i8, precision: u8, scale: u8) -> Result<i128, DecimalError> {
    let text = || format_wide(u, from);
    let to = i16::from(scale);
    let from = i16::from(from);
    let exact = if to >= from {
        // At most 76 digits in and out (a Decimal256's), so this cannot overflow in
        // range; an overflow means the value is too large anyway.
        u.checked_mul(pow10_wide(u8::try_from(to - from).unwrap_or(u8::MAX)))
    } else {
        let d = pow10_wide(u8::try_from(from - to).unwrap_or(u8::MAX));
        if u.wrapping_rem(d) != i256::ZERO {
            return Err(DecimalError::TooManyFractionDigits {
                value: text(),
                scale,
            });
        }
        Some(u.wrapping_div(d))
    };
    exact
        .and_then(|v| fits_wide(v, precision))
        .ok_or_else(|| DecimalError::TooManyDigits {
            value: text(),
            precision,
            scale,
        })
}

/// A 256-bit unscaled value as text, for messages.
fn format_wide(u: i256, scale: i8) -> String {
    match (u.to_i128(), u8::try_from(scale)) {
        (Some(v), Ok(s)) => format_decimal(v, s),
        _ => format!("{u}e{}", -i16::from(scale)),
    }
}

/// A column as `Decimal128(precision, scale)`, exactly: decimals rescaled, integers
/// widened, text parsed by `parse_decimal`; a value that does not fit is the error,
/// with its row. Nulls stay null.
pub fn to_decimal(array: &ArrayRef, precision: u8, scale: u8) -> Result<ArrayRef, RowDecimalError> {
    let at = |row: usize| move |error: DecimalError| RowDecimalError { row, error };
    if let ArrowType::Decimal128(p, s) = array.data_type() {
        if (*p, *s) == (precision, scale as i8) {
            let a = array.as_primitive::<Decimal128Type>();
            if let Some(row) = a
                .iter()
                .position(|v| v.is_some_and(|v| !fits(v, precision)))
            {
                let v = a.value(row);
                return Err(at(row)(DecimalError::TooManyDigits {
                    value: format_decimal(v, scale),
                    precision,
                    scale,
                }));
            }
            return Ok(Arc::clone(array));
        }
    }
    let mut out: Vec<Option<i128>> = Vec::with_capacity(array.len());
    macro_rules! ints {
        ($t:ty) => {
            for (row, v) in array.as_primitive::<$t>().iter().enumerate() {
                out.push(
                    v.map(|v| {
                        convert(i256::from_i128(v as i128), 0, precision, scale).map_err(at(row))
                    })
                    .transpose()?,
                );
            }
        };
    }
    match array.data_type() {
        ArrowType::Decimal128(_, s) => {
            for (row, v) in array.as_primitive::<Decimal128Type>().iter().enumerate() {
                out.push(
                    v.map(|v| convert(i256::from_i128(v), *s, precision, scale).map_err(at(row)))
                        .transpose()?,
                );
            }
        }
        ArrowType::Decimal256(_, s) => {
            for (row, v) in array.as_primitive::<Decimal256Type>().iter().enumerate() {
                out.push(
                    v.map(|v| convert(v, *s, precision, scale).map_err(at(row)))
                        .transpose()?,
                );
            }
        }
        ArrowType::Int8 => ints!(Int8Type),
        ArrowType::Int16 => ints!(Int16Type),
        ArrowType::Int32 => ints!(Int32Type),
        ArrowType::Int64 => ints!(Int64Type),
        ArrowType::UInt8 => ints!(UInt8Type),
        ArrowType::UInt16 => ints!(UInt16Type),
        ArrowType::UInt32 => ints!(UInt32Type),
        ArrowType::UInt64 => ints!(UInt64Type),
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => {
            let text = datafusion::arrow::compute::cast(array, &ArrowType::Utf8)
                .map_err(|_| at(0)(DecimalError::NotADecimal(array.data_type().clone())))?;
            for (row, t) in text.as_string::<i32>().iter().enumerate() {
                out.push(
                    t.map(|t| parse_decimal(t, precision, scale).map_err(at(row)))
                        .transpose()?,
                );
            }
        }
        other => return Err(at(0)(DecimalError::NotADecimal(other.clone()))),
    }
    let array = Decimal128Array::from(out)
        .with_precision_and_scale(precision, scale as i8)
        .map_err(|_| at(0)(DecimalError::NotADecimal(array.data_type().clone())))?;
    Ok(Arc::new(array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};

    #[test]
    fn text_reads_exactly_or_not_at_all() {
        assert_eq!(parse_decimal("-12.30", 10, 2), Ok(-1230));
        assert_eq!(parse_decimal("5", 10, 2), Ok(500));
        assert_eq!(parse_decimal(".5", 10, 2), Ok(50));
        assert_eq!(parse_decimal("5.", 10, 2), Ok(500));
        assert_eq!(parse_decimal("+0.25", 3, 2), Ok(25));
        assert_eq!(parse_decimal("1.500", 5, 2), Ok(150));
        assert_eq!(parse_decimal("-0", 5, 0), Ok(0));
        assert_eq!(parse_decimal("007", 1, 0), Ok(7));
        let max = "9".repeat(38);
        assert_eq!(parse_decimal(&max, 38, 0), Ok(pow10(38) - 1));
        assert_eq!(
            parse_decimal(&format!("-0.{max}"), 38, 38),
            Ok(-(pow10(38) - 1))
        );
        for bad in [
            "", "-", ".", "1e5", " 1", "1 ", "1,5", "--1", "0x10", "1.2.3", "NaN",
        ] {
            assert!(
                matches!(parse_decimal(bad, 10, 2), Err(DecimalError::Text(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_decimal("1.234", 10, 2),
            Err(DecimalError::TooManyFractionDigits { .. })
        ));
        assert!(matches!(
            parse_decimal("123", 4, 2),
            Err(DecimalError::TooManyDigits { .. })
        ));
        assert!(matches!(
            parse_decimal(&format!("1{max}"), 38, 0),
            Err(DecimalError::TooManyDigits { .. })
        ));
    }

    #[test]
    fn text_prints_exactly_scale_digits() {
        assert_eq!(format_decimal(-1230, 2), "-12.30");
        assert_eq!(format_decimal(5, 2), "0.05");
        assert_eq!(format_decimal(-5, 2), "-0.05");
        assert_eq!(format_decimal(7, 0), "7");
        assert_eq!(format_decimal(-7, 0), "-7");
        assert_eq!(format_decimal(0, 3), "0.000");
        let max = pow10(38) - 1;
        assert_eq!(format_decimal(-max, 38), format!("-0.{}", "9".repeat(38)));
        for (u, s) in [(max, 0), (-max, 10), (1, 38), (-123456789, 4)] {
            assert_eq!(parse_decimal(&format_decimal(u, s), 38, s), Ok(u));
        }
    }

    #[test]
    fn arithmetic_is_exact_and_fails_past_38_digits() {
        let max = pow10(38) - 1;
        // 1.5 + 0.25 at scale 2.
        assert_eq!(add(15, 1, 25, 2, false, 4, 2), Some(175));
        assert_eq!(add(15, 1, 25, 2, true, 4, 2), Some(125));
        assert_eq!(add(max, 0, 1, 0, false, 38, 0), None);
        assert_eq!(add(-max, 0, 1, 0, true, 38, 0), None);
        assert_eq!(add(max, 0, -1, 0, false, 38, 0), Some(max - 1));
        // Rescaling past i128 is still exact in 256 bits, and then too large.
        assert_eq!(add(max, 0, 1, 10, false, 38, 10), None);
        assert_eq!(mul(pow10(19), pow10(19), 38), None);
        assert_eq!(mul(pow10(19), pow10(18), 38), Some(pow10(37)));
        assert_eq!(mul(-max, 1, 38), Some(-max));
        assert_eq!(rescale(150, 2, 1), Some(15));
        assert_eq!(rescale(151, 2, 1), None);
        assert_eq!(rescale(max, 0, 1), None);
        assert_eq!(rescale(-7, 0, 3), Some(-7000));
    }

    #[test]
    fn floats_are_the_nearest() {
        assert_eq!(to_f64(1, 1), 0.1);
        assert_eq!(to_f64(-1230, 2), -12.3);
        assert_eq!(to_f64(0, 5), 0.0);
        assert_eq!(to_f64(pow10(38) - 1, 0), 1e38);
        assert_eq!(to_f64(3, 38), 3e-38);
    }

    #[test]
    fn columns_convert_exactly_or_name_the_row() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(-3), None, Some(12)]));
        let d = to_decimal(&ints, 4, 2).unwrap();
        assert_eq!(
            d.as_primitive::<Decimal128Type>()
                .iter()
                .collect::<Vec<_>>(),
            vec![Some(-300), None, Some(1200)]
        );
        let big: ArrayRef = Arc::new(Int64Array::from(vec![1, 100]));
        assert_eq!(to_decimal(&big, 4, 2).map_err(|e| e.row), Err(1));
        let wide: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(12_300), Some(12_345)])
                .with_precision_and_scale(10, 4)
                .unwrap(),
        );
        let e = to_decimal(&wide, 10, 2).unwrap_err();
        assert_eq!(e.row, 1);
        assert!(matches!(
            e.error,
            DecimalError::TooManyFractionDigits { .. }
        ));
        let text: ArrayRef = Arc::new(StringArray::from(vec![Some("1.5"), Some("x")]));
        assert_eq!(to_decimal(&text, 4, 2).map_err(|e| e.row), Err(1));
        let same: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(99), Some(100)])
                .with_precision_and_scale(2, 0)
                .unwrap(),
        );
        assert_eq!(to_decimal(&same, 2, 0).map_err(|e| e.row), Err(1));
    }
}
