//! The operators DataFusion evaluates for featc (comparisons, three-valued `and`/`or`),
//! on single values, computed as DataFusion's kernels compute them.

use std::cmp::Ordering;

use super::Fallback;
use crate::ir::BinaryOp;
use crate::value::Value;

/// A comparison of two values of one type as DataFusion's `BinaryExpr` gives it
/// (`apply_cmp` over Arrow's `cmp` kernels); null when either side is null.
pub(super) fn compare(op: BinaryOp, l: &Value, r: &Value) -> Result<Value, Fallback> {
    let order = match (l, r) {
        (Value::Null, _) | (_, Value::Null) => return Ok(Value::Null),
        (Value::Int64(a), Value::Int64(b)) => a.cmp(b),
        (Value::Float64(a), Value::Float64(b)) => float_order(*a, *b),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::String(a), Value::String(b)) => a.as_bytes().cmp(b.as_bytes()),
        (Value::Timestamp(a), Value::Timestamp(b)) => a.cmp(b),
        (Value::Date(a), Value::Date(b)) => a.cmp(b),
        _ => return Err(Fallback::Batch),
    };
    let holds = match op {
        BinaryOp::Eq => order == Ordering::Equal,
        BinaryOp::NotEq => order != Ordering::Equal,
        BinaryOp::Lt => order == Ordering::Less,
        BinaryOp::LtEq => order != Ordering::Greater,
        BinaryOp::Gt => order == Ordering::Greater,
        BinaryOp::GtEq => order != Ordering::Less,
        _ => return Err(Fallback::Batch),
    };
    Ok(Value::Bool(holds))
}

/// The order DataFusion compares float64s by: both zeros made `+0.0` (its
/// `normalize_float_zero`, so `-0.0 = +0.0`), then Arrow's kernels' IEEE total order
/// (`f64::total_cmp`): a NaN equals only a NaN of the same bits, a positive NaN is
/// above +inf and a negative one (what `inf - inf` gives on x86) below -inf. This is
/// not `value::float_cmp`, whose NaNs are all one value.
pub(super) fn float_order(a: f64, b: f64) -> Ordering {
    let unsigned_zero = |x: f64| if x == 0.0 { 0.0 } else { x };
    unsigned_zero(a).total_cmp(&unsigned_zero(b))
}

/// A boolean value as three-valued logic sees it (`None` is null).
pub(super) fn truth(v: &Value) -> Result<Option<bool>, Fallback> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        _ => Err(Fallback::Batch),
    }
}

/// Kleene `and` (`is_and`) or `or`: a false (true) side decides, else null if a side
/// is null (Arrow's `and_kleene`/`or_kleene`, which DataFusion's operators and featc's
/// eager functions both compute).
pub(super) fn kleene(is_and: bool, l: Option<bool>, r: Option<bool>) -> Option<bool> {
    let decisive = !is_and;
    if l == Some(decisive) || r == Some(decisive) {
        Some(decisive)
    } else if l.is_none() || r.is_none() {
        None
    } else {
        Some(!decisive)
    }
}

/// A boolean result as a value.
pub(super) fn bool_value(b: Option<bool>) -> Value {
    b.map_or(Value::Null, Value::Bool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_order_is_total_order_with_one_zero() {
        assert_eq!(float_order(-0.0, 0.0), Ordering::Equal);
        assert_eq!(float_order(f64::NAN, f64::INFINITY), Ordering::Greater);
        assert_eq!(float_order(-f64::NAN, f64::NEG_INFINITY), Ordering::Less);
        assert_eq!(float_order(f64::NAN, f64::NAN), Ordering::Equal);
        let other_nan = f64::from_bits(f64::NAN.to_bits() | 1);
        assert_ne!(float_order(f64::NAN, other_nan), Ordering::Equal);
    }

    #[test]
    fn kleene_logic() {
        let (t, f, n) = (Some(true), Some(false), None);
        assert_eq!(kleene(true, f, n), f);
        assert_eq!(kleene(true, n, t), n);
        assert_eq!(kleene(true, t, t), t);
        assert_eq!(kleene(false, n, t), t);
        assert_eq!(kleene(false, f, n), n);
        assert_eq!(kleene(false, f, f), f);
    }
}
