//! Comparisons and three-valued `and`/`or` on single values, computed as the lowered
//! expression computes them (featc's float comparisons, DataFusion's kernels for the
//! rest).

use super::Fallback;
use crate::expr::float_compare::{sql_order, CmpOp};
use crate::ir::BinaryOp;
use crate::value::Value;

/// A comparison of two values of one type as the lowering evaluates it: featc's float
/// order for float64s (`float_compare::sql_key`, the key its kernel compares),
/// DataFusion's `BinaryExpr` (Arrow's `cmp` kernels) for the others; null when either
/// side is null.
pub(super) fn compare(op: BinaryOp, l: &Value, r: &Value) -> Result<Value, Fallback> {
    let order = match (l, r) {
        (Value::Null, _) | (_, Value::Null) => return Ok(Value::Null),
        (Value::Int64(a), Value::Int64(b)) => a.cmp(b),
        (Value::Float64(a), Value::Float64(b)) => sql_order(*a, *b),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::String(a), Value::String(b)) => a.as_bytes().cmp(b.as_bytes()),
        (Value::Timestamp(a), Value::Timestamp(b)) => a.cmp(b),
        (Value::Date(a), Value::Date(b)) => a.cmp(b),
        _ => return Err(Fallback::Batch),
    };
    match CmpOp::of(op) {
        Some(cmp) => Ok(Value::Bool(cmp.holds(order))),
        None => Err(Fallback::Batch),
    }
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
