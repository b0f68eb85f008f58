//! The oracle's own decimals (semantics.md "Decimals"), in arbitrary precision: a
//! value is a `BigInt` times `10^-scale`; every operation is exact, and a result is
//! checked against its type's digits afterwards. Shares nothing with `row::decimal`.

use std::cmp::Ordering;

use num_bigint::{BigInt, Sign};
use num_traits::{Signed, Zero};

use super::round::round_ratio;
use super::value::RValue;
use super::EvalError;
use crate::ir::{BinaryOp, DataType};

fn ten_to(n: u8) -> BigInt {
    num_traits::pow(BigInt::from(10), usize::from(n))
}

/// `v` (scale `from`) at the larger scale `to`.
fn widen(v: &BigInt, from: u8, to: u8) -> BigInt {
    v * ten_to(to.saturating_sub(from))
}

/// A decimal of `precision` digits and `scale`, or the overflow error.
fn checked(v: BigInt, precision: u8, scale: u8, what: String) -> Result<RValue, EvalError> {
    if v.abs() < ten_to(precision) {
        Ok(RValue::Dec(v, scale))
    } else {
        Err(EvalError::DecimalOverflow(what))
    }
}

/// A number as (value, scale): an int is scale 0.
fn parts(v: &RValue) -> Option<(BigInt, u8)> {
    match v {
        RValue::Int(x) => Some((BigInt::from(*x), 0)),
        RValue::Dec(x, s) => Some((x.clone(), *s)),
        _ => None,
    }
}

/// The exact order of two numbers, one at least a decimal.
pub fn compare(a: &RValue, b: &RValue) -> Option<Ordering> {
    let ((x, sx), (y, sy)) = (parts(a)?, parts(b)?);
    let s = sx.max(sy);
    Some(widen(&x, sx, s).cmp(&widen(&y, sy, s)))
}

/// Text of `v * 10^-scale` with `scale` fractional digits, for messages.
pub fn text(v: &BigInt, scale: u8) -> String {
    let digits = v.abs().to_string();
    let sign = if v.sign() == Sign::Minus { "-" } else { "" };
    let s = usize::from(scale);
    if s == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = s + 1);
    let (i, f) = padded.split_at(padded.len() - s);
    format!("{sign}{i}.{f}")
}

/// `a op b` for `+ - *` giving a value of type `ty` (a decimal).
pub fn arithmetic(op: BinaryOp, a: &RValue, b: &RValue, ty: DataType) -> Result<RValue, EvalError> {
    let DataType::Decimal { precision, scale } = ty else {
        return Err(EvalError::OperandKind {
            what: op.symbol(),
            found: a.kind_name(),
        });
    };
    let (Some((x, sx)), Some((y, sy))) = (parts(a), parts(b)) else {
        return Err(EvalError::OperandKind {
            what: op.symbol(),
            found: b.kind_name(),
        });
    };
    let what = format!("{} {} {}", text(&x, sx), op.symbol(), text(&y, sy));
    let v = match op {
        BinaryOp::Add => widen(&x, sx, scale) + widen(&y, sy, scale),
        BinaryOp::Sub => widen(&x, sx, scale) - widen(&y, sy, scale),
        // The product's scale is sx + sy, the type's.
        _ => x * y,
    };
    checked(v, precision, scale, what)
}

/// `v` converted to type `ty`: a decimal widened (or an int made one), or the float64
/// nearest it.
pub fn cast(v: RValue, ty: DataType) -> Result<RValue, EvalError> {
    let Some((x, s)) = parts(&v) else {
        return Ok(v);
    };
    match ty {
        DataType::Decimal { precision, scale } => {
            let what = format!("{} as {}", text(&x, s), ty.name());
            checked(widen(&x, s, scale), precision, scale, what)
        }
        _ => Ok(RValue::Float(to_f64(&x, s))),
    }
}

/// The float64 nearest `v * 10^-scale`.
pub fn to_f64(v: &BigInt, scale: u8) -> f64 {
    round_ratio(v, &ten_to(scale), 0)
}

/// `avg` of decimals of scale `scale` summing to `total` over `n` values: the exact
/// ratio rounded once.
pub fn avg(total: &BigInt, n: usize, scale: u8) -> f64 {
    round_ratio(total, &(BigInt::from(n) * ten_to(scale)), 0)
}

/// `sum`: the exact total as `decimal(38, scale)`, or the overflow error.
pub fn sum(values: &[&RValue], scale: u8) -> Result<RValue, EvalError> {
    let mut total = BigInt::zero();
    for v in values {
        match v {
            RValue::Dec(x, _) => total += x,
            other => {
                return Err(EvalError::NumericKind {
                    found: other.kind_name(),
                })
            }
        }
    }
    let what = format!("sum {}", text(&total, scale));
    checked(total, 38, scale, what)
}

/// `-v` and `abs(v)`: never out of range.
pub fn negate(v: &BigInt, scale: u8) -> RValue {
    RValue::Dec(-v, scale)
}

pub fn abs(v: &BigInt, scale: u8) -> RValue {
    RValue::Dec(v.abs(), scale)
}
