//! featc's float64 comparisons (`=`, `<>`, `<`, `<=`, `>`, `>=`, and so `in`) as
//! DataFusion scalar functions: semantics.md's "Comparisons in expressions", where
//! `-0.0 = +0.0` and every NaN is one value, equal to itself and above +inf.
//!
//! DataFusion's operators are not that: Arrow's kernels order floats by
//! `f64::total_cmp`, so a NaN with its sign bit set (what `inf - inf` gives on x86, or
//! one read from a file) sorts below -inf, and NaNs of different bits are unequal.
//! Canonicalising NaNs where floats enter featc would not do: every float operation
//! (`-`, `pow`, `sin`, ...) can make a new one, and a NaN's bits are output where
//! semantics.md keeps them (`least`, `greatest`, derived features).
//!
//! A comparison maps each operand to `sql_key`, an int64 whose order is featc's, then
//! compares the integers: one branch-free pass per operand, no allocation but the
//! result's bits. The scalar path (`expr::scalar`) compares single values through the
//! same `sql_key`, so the two cannot drift apart.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{new_null_array, Array, ArrayRef, BooleanArray, Float64Array};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::ir::BinaryOp;

/// `x`'s place in featc's float order as an integer: `sql_key(a).cmp(&sql_key(b))` is
/// how `a` compares with `b`. Both zeros are `+0.0` (`x + 0.0` is `+0.0` for either
/// zero and `x` for every other number) and every NaN the canonical one, above +inf;
/// then IEEE total order as `f64::total_cmp` computes it (a negative float's
/// magnitude bits flipped, so a larger magnitude is a smaller integer).
#[inline]
pub fn sql_key(x: f64) -> i64 {
    let x = if x.is_nan() { f64::NAN } else { x + 0.0 };
    let bits = x.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// How `a` compares with `b` in featc's expressions (see `sql_key`).
pub fn sql_order(a: f64, b: f64) -> Ordering {
    sql_key(a).cmp(&sql_key(b))
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl CmpOp {
    /// The comparison `op` is, if it is one.
    pub fn of(op: BinaryOp) -> Option<CmpOp> {
        Some(match op {
            BinaryOp::Eq => CmpOp::Eq,
            BinaryOp::NotEq => CmpOp::NotEq,
            BinaryOp::Lt => CmpOp::Lt,
            BinaryOp::LtEq => CmpOp::LtEq,
            BinaryOp::Gt => CmpOp::Gt,
            BinaryOp::GtEq => CmpOp::GtEq,
            _ => return None,
        })
    }

    /// Whether the comparison holds of two operands ordered `order`.
    pub fn holds(self, order: Ordering) -> bool {
        match self {
            CmpOp::Eq => order == Ordering::Equal,
            CmpOp::NotEq => order != Ordering::Equal,
            CmpOp::Lt => order == Ordering::Less,
            CmpOp::LtEq => order != Ordering::Greater,
            CmpOp::Gt => order == Ordering::Greater,
            CmpOp::GtEq => order != Ordering::Less,
        }
    }

    /// The function name shown in plans.
    fn name(self) -> &'static str {
        match self {
            CmpOp::Eq => "featc_float_eq",
            CmpOp::NotEq => "featc_float_ne",
            CmpOp::Lt => "featc_float_lt",
            CmpOp::LtEq => "featc_float_le",
            CmpOp::Gt => "featc_float_gt",
            CmpOp::GtEq => "featc_float_ge",
        }
    }

    /// The operator with its operands swapped: `a < b` is `b > a`.
    fn swapped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::LtEq => CmpOp::GtEq,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::GtEq => CmpOp::LtEq,
            op => op,
        }
    }
}

/// The scalar function comparing two float64s by one `CmpOp`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FloatCompare {
    op: CmpOp,
    signature: Signature,
}

/// The `ScalarUDF` for `op` on two float64s (cheap: build one per use).
pub fn udf(op: CmpOp) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(FloatCompare {
        op,
        signature: Signature::exact(vec![DataType::Float64; 2], Volatility::Immutable),
    }))
}

impl ScalarUDFImpl for FloatCompare {
    fn name(&self) -> &str {
        self.op.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [l, r] = args.args.as_slice() else {
            return exec_err!("{}: expected two arguments", self.name());
        };
        let op = self.op;
        Ok(match (l, r) {
            (ColumnarValue::Scalar(a), ColumnarValue::Scalar(b)) => {
                let holds = match (float(a)?, float(b)?) {
                    (Some(a), Some(b)) => Some(op.holds(sql_order(a, b))),
                    _ => None,
                };
                ColumnarValue::Scalar(ScalarValue::Boolean(holds))
            }
            (ColumnarValue::Array(a), ColumnarValue::Scalar(b)) => {
                ColumnarValue::Array(with_value(op, floats(a)?, float(b)?))
            }
            (ColumnarValue::Scalar(a), ColumnarValue::Array(b)) => {
                ColumnarValue::Array(with_value(op.swapped(), floats(b)?, float(a)?))
            }
            (ColumnarValue::Array(a), ColumnarValue::Array(b)) => {
                let (a, b) = (floats(a)?, floats(b)?);
                if a.len() != b.len() {
                    return exec_err!(
                        "{}: arrays of {} and {} rows",
                        self.name(),
                        a.len(),
                        b.len()
                    );
                }
                ColumnarValue::Array(Arc::new(by_op(op, a, Operand::Array(b))))
            }
        })
    }
}

/// The right operand of a kernel: an array, or one value's key.
#[derive(Clone, Copy)]
enum Operand<'a> {
    Array(&'a Float64Array),
    Key(i64),
}

/// `a op b` for every row, `b` one value (null: every row null).
fn with_value(op: CmpOp, a: &Float64Array, b: Option<f64>) -> ArrayRef {
    match b {
        Some(b) => Arc::new(by_op(op, a, Operand::Key(sql_key(b)))),
        None => new_null_array(&DataType::Boolean, a.len()),
    }
}

/// One loop per operator, so each compiles to a plain integer comparison.
fn by_op(op: CmpOp, a: &Float64Array, b: Operand<'_>) -> BooleanArray {
    match op {
        CmpOp::Eq => kernel(a, b, |x, y| x == y),
        CmpOp::NotEq => kernel(a, b, |x, y| x != y),
        CmpOp::Lt => kernel(a, b, |x, y| x < y),
        CmpOp::LtEq => kernel(a, b, |x, y| x <= y),
        CmpOp::Gt => kernel(a, b, |x, y| x > y),
        CmpOp::GtEq => kernel(a, b, |x, y| x >= y),
    }
}

/// `holds(key(a[i]), key(b[i]))` for every row; null where an operand is. Rows under a
/// null hold whatever their slot's value gives, as Arrow's kernels leave them.
fn kernel(a: &Float64Array, b: Operand<'_>, holds: impl Fn(i64, i64) -> bool) -> BooleanArray {
    let xs = a.values();
    match b {
        Operand::Key(k) => {
            let bits = BooleanBuffer::collect_bool(xs.len(), |i| holds(sql_key(xs[i]), k));
            BooleanArray::new(bits, a.nulls().cloned())
        }
        Operand::Array(b) => {
            let ys = b.values();
            let bits =
                BooleanBuffer::collect_bool(xs.len(), |i| holds(sql_key(xs[i]), sql_key(ys[i])));
            BooleanArray::new(bits, NullBuffer::union(a.nulls(), b.nulls()))
        }
    }
}

fn floats(a: &ArrayRef) -> Result<&Float64Array> {
    match a.as_any().downcast_ref::<Float64Array>() {
        Some(a) => Ok(a),
        None => exec_err!(
            "featc float comparison: an argument of type {}",
            a.data_type()
        ),
    }
}

fn float(v: &ScalarValue) -> Result<Option<f64>> {
    match v {
        ScalarValue::Float64(x) => Ok(*x),
        v => exec_err!(
            "featc float comparison: an argument of type {}",
            v.data_type()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::float_cmp;

    fn edges() -> Vec<f64> {
        vec![
            f64::NEG_INFINITY,
            -f64::MAX,
            -1.0,
            -5e-324,
            -0.0,
            0.0,
            5e-324,
            1.0,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff8_0000_0000_0001),
            f64::from_bits(0xfff0_0000_0000_0001),
        ]
    }

    #[test]
    fn the_key_orders_as_featc_with_one_zero_and_one_nan() {
        for &a in &edges() {
            for &b in &edges() {
                let want = match a == 0.0 && b == 0.0 {
                    true => Ordering::Equal,
                    false => float_cmp(a, b),
                };
                assert_eq!(
                    sql_order(a, b),
                    want,
                    "{a:?} ({:x}) vs {b:?} ({:x})",
                    a.to_bits(),
                    b.to_bits()
                );
            }
        }
        assert_eq!(sql_order(-f64::NAN, f64::NAN), Ordering::Equal);
        assert_eq!(sql_order(-f64::NAN, f64::INFINITY), Ordering::Greater);
        assert_eq!(sql_order(-0.0, 0.0), Ordering::Equal);
    }

    #[test]
    fn kernels_agree_with_the_per_value_order_and_keep_nulls() {
        let values: Vec<Option<f64>> = edges().into_iter().map(Some).chain([None]).collect();
        let n = values.len();
        let a: ArrayRef = Arc::new(Float64Array::from(
            (0..n * n).map(|i| values[i / n]).collect::<Vec<_>>(),
        ));
        let b: ArrayRef = Arc::new(Float64Array::from(
            (0..n * n).map(|i| values[i % n]).collect::<Vec<_>>(),
        ));
        for op in [
            CmpOp::Eq,
            CmpOp::NotEq,
            CmpOp::Lt,
            CmpOp::LtEq,
            CmpOp::Gt,
            CmpOp::GtEq,
        ] {
            let arrays = by_op(
                op,
                floats(&a).expect("floats"),
                Operand::Array(floats(&b).expect("floats")),
            );
            for i in 0..n * n {
                let (x, y) = (values[i / n], values[i % n]);
                let want = x.zip(y).map(|(x, y)| op.holds(sql_order(x, y)));
                assert_eq!(
                    arrays.is_valid(i).then(|| arrays.value(i)),
                    want,
                    "{op:?} {x:?} {y:?}"
                );
                // The same against one value, on either side.
                let Some(y) = y else { continue };
                let column = floats(&a).expect("floats");
                let right = with_value(op, column, Some(y));
                let left = with_value(op.swapped(), column, Some(y));
                let (right, left) = (
                    right.as_any().downcast_ref::<BooleanArray>(),
                    left.as_any().downcast_ref::<BooleanArray>(),
                );
                let at =
                    |r: Option<&BooleanArray>| r.and_then(|r| r.is_valid(i).then(|| r.value(i)));
                assert_eq!(at(right), x.map(|x| op.holds(sql_order(x, y))));
                assert_eq!(at(left), x.map(|x| op.holds(sql_order(y, x))));
            }
        }
    }
}
