//! The numeric row functions: `abs`, `sqrt`, `ln`, `exp`, `pow`, `floor`, `ceil`,
//! `round` (semantics.md "Functions"). The scalar kernels are public so the tests
//! state the edge cases on them directly; `invoke` maps them over Arrow arrays.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array};
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::arrow::datatypes::Decimal128Type;
use datafusion::common::{exec_err, DataFusionError, Result};

use super::{floats, ints};
use crate::ir::Function;

/// int64 `abs`; `None` for `i64::MIN`, whose absolute value does not fit.
pub fn abs_int(x: i64) -> Option<i64> {
    x.checked_abs()
}

/// float64 `abs`: the sign cleared (`-0.0` gives `+0.0`, a NaN stays a NaN).
pub fn abs_float(x: f64) -> f64 {
    x.abs()
}

/// `sqrt`: null below zero; `-0.0` gives `-0.0` (IEEE), NaN gives NaN.
pub fn sqrt(x: f64) -> Option<f64> {
    if x < 0.0 {
        None
    } else {
        Some(x.sqrt())
    }
}

/// `ln`: null at or below zero (`-0.0` included); NaN gives NaN, +inf gives +inf.
pub fn ln(x: f64) -> Option<f64> {
    if x <= 0.0 {
        None
    } else {
        Some(x.ln())
    }
}

/// `exp`, Rust's `f64::exp`.
pub fn exp(x: f64) -> f64 {
    x.exp()
}

/// `pow`, Rust's `f64::powf`.
pub fn pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

/// float64 `floor`, `ceil` and `round` (half away from zero), Rust's own.
pub fn round_float(func: Function, x: f64) -> f64 {
    match func {
        Function::Floor => x.floor(),
        Function::Ceil => x.ceil(),
        _ => x.round(),
    }
}

/// Evaluates a numeric function on its argument arrays.
pub(super) fn invoke(func: Function, args: &[ArrayRef]) -> Result<ArrayRef> {
    let int = args.first().map(|a| a.data_type()) == Some(&ArrowType::Int64);
    let out: ArrayRef = match func {
        Function::Abs if int => {
            let a = ints(args, 0)?;
            let mut out = Vec::with_capacity(a.len());
            for v in a.iter() {
                out.push(match v {
                    None => None,
                    Some(v) => Some(abs_int(v).ok_or_else(|| overflow(v))?),
                });
            }
            Arc::new(Int64Array::from(out))
        }
        // A decimal's absolute value has its digits: it cannot fail.
        Function::Abs
            if matches!(
                args.first().map(|a| a.data_type()),
                Some(ArrowType::Decimal128(..))
            ) =>
        {
            let Some(a) = args
                .first()
                .and_then(|a| a.as_primitive_opt::<Decimal128Type>())
            else {
                return exec_err!("featc abs: not a decimal");
            };
            Arc::new(
                a.unary::<_, Decimal128Type>(|v| v.wrapping_abs())
                    .with_data_type(a.data_type().clone()),
            )
        }
        // int64 `floor`, `ceil` and `round` are the value itself.
        Function::Floor | Function::Ceil | Function::Round if int => {
            Arc::new(ints(args, 0)?.clone())
        }
        Function::Abs => unary(args, |x| Some(abs_float(x)))?,
        Function::Floor | Function::Ceil | Function::Round => {
            unary(args, |x| Some(round_float(func, x)))?
        }
        Function::Sqrt => unary(args, sqrt)?,
        Function::Ln => unary(args, ln)?,
        Function::Exp => unary(args, |x| Some(exp(x)))?,
        Function::Pow => {
            let (a, b) = (floats(args, 0)?, floats(args, 1)?);
            let out: Float64Array = a
                .iter()
                .zip(b.iter())
                .map(|(x, y)| Some(pow(x?, y?)))
                .collect();
            Arc::new(out)
        }
        _ => return exec_err!("featc: `{}` is not a numeric function", func.name()),
    };
    Ok(out)
}

fn unary(args: &[ArrayRef], f: impl Fn(f64) -> Option<f64>) -> Result<ArrayRef> {
    let a = floats(args, 0)?;
    let out: Float64Array = a.iter().map(|x| f(x?)).collect();
    Ok(Arc::new(out))
}

/// Worded like the arithmetic's overflow (`expr::arith`); `SlotEvaluator` adds the
/// source, the expression and the first failing event.
fn overflow(v: i64) -> DataFusionError {
    DataFusionError::Execution(format!("int64 overflow: abs({v}) does not fit in int64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(x: Option<f64>) -> Option<u64> {
        x.map(f64::to_bits)
    }

    #[test]
    fn abs_overflows_only_at_the_int_minimum_and_clears_float_signs() {
        assert_eq!(abs_int(i64::MIN), None);
        assert_eq!(abs_int(i64::MIN + 1), Some(i64::MAX));
        assert_eq!(abs_int(-3), Some(3));
        assert_eq!(abs_float(-0.0).to_bits(), 0.0f64.to_bits());
        assert!(abs_float(f64::NAN).is_nan());
        assert_eq!(abs_float(f64::NEG_INFINITY), f64::INFINITY);
    }

    #[test]
    fn sqrt_and_ln_are_null_outside_their_domains() {
        assert_eq!(sqrt(-1.0), None);
        assert_eq!(sqrt(f64::NEG_INFINITY), None);
        assert_eq!(bits(sqrt(-0.0)), Some((-0.0f64).to_bits()));
        assert_eq!(sqrt(4.0), Some(2.0));
        assert!(sqrt(f64::NAN).is_some_and(f64::is_nan));
        assert_eq!(ln(0.0), None);
        assert_eq!(ln(-0.0), None);
        assert_eq!(ln(-2.0), None);
        assert_eq!(ln(1.0), Some(0.0));
        assert_eq!(ln(f64::INFINITY), Some(f64::INFINITY));
        assert!(ln(f64::NAN).is_some_and(f64::is_nan));
    }

    #[test]
    fn exp_pow_and_rounding() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(pow(2.0, 10.0), 1024.0);
        assert!(pow(-8.0, 1.0 / 3.0).is_nan());
        assert_eq!(pow(f64::NAN, 0.0), 1.0);
        assert_eq!(round_float(Function::Round, 2.5), 3.0);
        assert_eq!(round_float(Function::Round, -2.5), -3.0);
        assert_eq!(
            round_float(Function::Round, -0.4).to_bits(),
            (-0.0f64).to_bits()
        );
        assert_eq!(round_float(Function::Floor, -0.5), -1.0);
        assert_eq!(
            round_float(Function::Ceil, -0.5).to_bits(),
            (-0.0f64).to_bits()
        );
    }

    #[test]
    fn arrays_keep_nulls_and_int_rounding_is_the_identity() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(-2), None, Some(7)]));
        let got = invoke(Function::Round, &[Arc::clone(&ints)]).expect("round");
        assert_eq!(got.as_ref(), ints.as_ref());
        let got = invoke(Function::Abs, &[ints]).expect("abs");
        assert_eq!(
            got.as_any().downcast_ref::<Int64Array>(),
            Some(&Int64Array::from(vec![Some(2), None, Some(7)]))
        );
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![Some(-1.0), None, Some(9.0)]));
        let got = invoke(Function::Sqrt, &[floats]).expect("sqrt");
        assert_eq!(
            got.as_any().downcast_ref::<Float64Array>(),
            Some(&Float64Array::from(vec![None, None, Some(3.0)]))
        );
        let min: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(i64::MIN)]));
        let err = invoke(Function::Abs, &[min]).expect_err("overflow");
        assert!(
            err.to_string()
                .contains("int64 overflow: abs(-9223372036854775808) does not fit in int64"),
            "{err}"
        );
    }
}
