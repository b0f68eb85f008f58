//! A naive per-row evaluator of `ir::Expr` with SQL null semantics (semantics.md
//! "Row transforms" and `ir::BinaryOp`'s typing rules).
//!
//! Choices the contract leaves to this file: float comparisons (`=`, `<`, `in`, ...)
//! are SQL's (as in PostgreSQL and DataFusion, which the batch and streaming paths
//! evaluate with): `-0.0 = +0.0`, and every NaN is equal to itself and above +inf,
//! so the order is total; both sides of
//! a binary operator are always evaluated (an overflow on either side is an error even
//! when `and`/`or` could decide without it), and so is every item of an `in` list;
//! `case` and `coalesce` evaluate lazily; every argument of a row function is
//! evaluated, then the function (`functions`).

use std::cmp::Ordering;

use super::decimal;
use super::functions;
use super::value::{total_cmp, RValue};
use super::EvalError;
use crate::ir::{BinaryOp, Expr, ExprKind, Literal};

/// Reads a column (or an earlier let) of the current row.
pub type Row<'a> = dyn Fn(&str) -> Result<RValue, EvalError> + 'a;

/// Evaluates `expr` on one row. Errors are data (overflow, type mismatches that a
/// checked project never produces); the caller adds the source and row.
#[recursive::recursive]
pub fn eval(expr: &Expr, row: &Row<'_>) -> Result<RValue, EvalError> {
    match &expr.kind {
        ExprKind::Column(name) => row(name),
        ExprKind::Literal(lit) => Ok(match lit {
            Literal::Null => RValue::Null,
            Literal::Int64(v) => RValue::Int(*v),
            Literal::Float64(v) => RValue::Float(*v),
            Literal::String(v) => RValue::Str(v.clone()),
            Literal::Bool(v) => RValue::Bool(*v),
            Literal::Decimal(v) => {
                let scale = expr.ty.decimal_parts().map_or(0, |(_, s)| s);
                RValue::Dec(num_bigint::BigInt::from(*v), scale)
            }
        }),
        ExprKind::Cast(inner) => match eval(inner, row)? {
            v @ RValue::Dec(..) => decimal::cast(v, expr.ty),
            v @ RValue::Int(_) if expr.ty.is_decimal() => decimal::cast(v, expr.ty),
            RValue::Int(v) => Ok(RValue::Float(v as f64)),
            v @ (RValue::Float(_) | RValue::Null) => Ok(v),
            v => Err(EvalError::Cast {
                found: v.kind_name(),
            }),
        },
        ExprKind::Not(inner) => match eval(inner, row)? {
            RValue::Null => Ok(RValue::Null),
            RValue::Bool(b) => Ok(RValue::Bool(!b)),
            v => Err(EvalError::OperandKind {
                what: "not",
                found: v.kind_name(),
            }),
        },
        ExprKind::Neg(inner) => match eval(inner, row)? {
            RValue::Null => Ok(RValue::Null),
            RValue::Int(v) => v
                .checked_neg()
                .map(RValue::Int)
                .ok_or(EvalError::MinusOverflow(v)),
            RValue::Float(v) => Ok(RValue::Float(-v)),
            RValue::Dec(v, s) => Ok(decimal::negate(&v, s)),
            v => Err(EvalError::Minus {
                found: v.kind_name(),
            }),
        },
        ExprKind::Binary { op, lhs, rhs } => {
            let (a, b) = (eval(lhs, row)?, eval(rhs, row)?);
            let arithmetic = matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul);
            if arithmetic && expr.ty.is_decimal() && !a.is_null() && !b.is_null() {
                return decimal::arithmetic(*op, &a, &b, expr.ty);
            }
            binary(*op, a, b)
        }
        ExprKind::IsNull { expr, negated } => {
            Ok(RValue::Bool(eval(expr, row)?.is_null() != *negated))
        }
        ExprKind::InList {
            expr,
            list,
            negated,
        } => {
            // Every item is evaluated, like both operands of a binary operator: an
            // overflow in a later item is an error even when an earlier one matched.
            let needle = eval(expr, row)?;
            let items = list
                .iter()
                .map(|item| eval(item, row))
                .collect::<Result<Vec<_>, _>>()?;
            if needle.is_null() {
                return Ok(RValue::Null);
            }
            let mut saw_null = false;
            for item in items {
                if item.is_null() {
                    saw_null = true;
                } else if compare(&needle, &item)? == Some(Ordering::Equal) {
                    return Ok(RValue::Bool(!negated));
                }
            }
            Ok(if saw_null {
                RValue::Null
            } else {
                RValue::Bool(*negated)
            })
        }
        ExprKind::Coalesce(args) => {
            for arg in args {
                let v = eval(arg, row)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            Ok(RValue::Null)
        }
        ExprKind::Call { func, args } => {
            let values = args
                .iter()
                .map(|arg| eval(arg, row))
                .collect::<Result<Vec<_>, _>>()?;
            functions::call(*func, values)
        }
        ExprKind::Case {
            branches,
            otherwise,
        } => {
            for (condition, value) in branches {
                if eval(condition, row)? == RValue::Bool(true) {
                    return eval(value, row);
                }
            }
            match otherwise {
                Some(e) => eval(e, row),
                None => Ok(RValue::Null),
            }
        }
    }
}

/// The order of two non-null values of one type (always `Some`: the order is total).
fn compare(a: &RValue, b: &RValue) -> Result<Option<Ordering>, EvalError> {
    Ok(match (a, b) {
        (RValue::Int(x), RValue::Int(y)) => Some(x.cmp(y)),
        (RValue::Float(x), RValue::Float(y)) => Some(sql_float_cmp(*x, *y)),
        (RValue::Int(x), RValue::Float(y)) => Some(sql_float_cmp(*x as f64, *y)),
        (RValue::Float(x), RValue::Int(y)) => Some(sql_float_cmp(*x, *y as f64)),
        (RValue::Str(x), RValue::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (RValue::Bool(x), RValue::Bool(y)) => Some(x.cmp(y)),
        (RValue::Ts(x), RValue::Ts(y)) => Some(x.cmp(y)),
        (RValue::Date(x), RValue::Date(y)) => Some(x.cmp(y)),
        (RValue::Dec(..), RValue::Dec(..) | RValue::Int(_)) | (RValue::Int(_), RValue::Dec(..)) => {
            decimal::compare(a, b)
        }
        _ => {
            return Err(EvalError::Incomparable {
                left: a.kind_name(),
                right: b.kind_name(),
            })
        }
    })
}

/// SQL's float order for comparisons: the two zeros are one value; otherwise the
/// featc total order (one NaN, above +inf).
fn sql_float_cmp(x: f64, y: f64) -> Ordering {
    if x == 0.0 && y == 0.0 {
        Ordering::Equal
    } else {
        total_cmp(&RValue::Float(x), &RValue::Float(y))
    }
}

fn as_bool(v: &RValue, op: BinaryOp) -> Result<Option<bool>, EvalError> {
    match v {
        RValue::Null => Ok(None),
        RValue::Bool(b) => Ok(Some(*b)),
        v => Err(EvalError::OperandKind {
            what: op.symbol(),
            found: v.kind_name(),
        }),
    }
}

fn as_f64(v: &RValue, op: BinaryOp) -> Result<f64, EvalError> {
    match v {
        RValue::Dec(x, s) => Ok(decimal::to_f64(x, *s)),
        RValue::Int(x) => Ok(*x as f64),
        RValue::Float(x) => Ok(*x),
        v => Err(EvalError::OperandKind {
            what: op.symbol(),
            found: v.kind_name(),
        }),
    }
}

fn binary(op: BinaryOp, a: RValue, b: RValue) -> Result<RValue, EvalError> {
    match op {
        BinaryOp::And => {
            let (x, y) = (as_bool(&a, op)?, as_bool(&b, op)?);
            return Ok(match (x, y) {
                (Some(false), _) | (_, Some(false)) => RValue::Bool(false),
                (Some(true), Some(true)) => RValue::Bool(true),
                _ => RValue::Null,
            });
        }
        BinaryOp::Or => {
            let (x, y) = (as_bool(&a, op)?, as_bool(&b, op)?);
            return Ok(match (x, y) {
                (Some(true), _) | (_, Some(true)) => RValue::Bool(true),
                (Some(false), Some(false)) => RValue::Bool(false),
                _ => RValue::Null,
            });
        }
        _ => {}
    }
    if a.is_null() || b.is_null() {
        return Ok(RValue::Null);
    }
    if op.is_comparison() {
        let ord = compare(&a, &b)?;
        let result = match op {
            BinaryOp::Eq => ord == Some(Ordering::Equal),
            BinaryOp::NotEq => ord != Some(Ordering::Equal),
            BinaryOp::Lt => ord == Some(Ordering::Less),
            BinaryOp::LtEq => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
            BinaryOp::Gt => ord == Some(Ordering::Greater),
            _ => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        };
        return Ok(RValue::Bool(result));
    }
    if op == BinaryOp::Div {
        let (x, y) = (as_f64(&a, op)?, as_f64(&b, op)?);
        return Ok(if y == 0.0 {
            RValue::Null
        } else {
            RValue::Float(x / y)
        });
    }
    if let (RValue::Int(x), RValue::Int(y)) = (&a, &b) {
        let (x, y) = (*x, *y);
        if op == BinaryOp::Mod && y == 0 {
            return Ok(RValue::Null);
        }
        let result = match op {
            BinaryOp::Add => x.checked_add(y),
            BinaryOp::Sub => x.checked_sub(y),
            BinaryOp::Mul => x.checked_mul(y),
            _ => x.checked_rem(y),
        };
        return result.map(RValue::Int).ok_or(EvalError::Overflow {
            left: x,
            op: op.symbol(),
            right: y,
        });
    }
    let (x, y) = (as_f64(&a, op)?, as_f64(&b, op)?);
    Ok(match op {
        BinaryOp::Add => RValue::Float(x + y),
        BinaryOp::Sub => RValue::Float(x - y),
        BinaryOp::Mul => RValue::Float(x * y),
        _ if y == 0.0 => RValue::Null,
        _ => RValue::Float(x % y),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(op: BinaryOp, a: f64, b: f64) -> RValue {
        binary(op, RValue::Float(a), RValue::Float(b)).expect("comparison")
    }

    /// Regression: the reference compared floats by IEEE's partial order, the batch
    /// and streaming paths (DataFusion) by SQL's: `-0.0 = +0.0`, NaN = NaN and NaN
    /// above +inf. The generated `count_if(ratio < 0)` with `ratio = 0.0 / -1` differed.
    #[test]
    fn float_comparisons_follow_sql_signed_zero_and_nan() {
        assert_eq!(cmp(BinaryOp::Lt, -0.0, 0.0), RValue::Bool(false));
        assert_eq!(cmp(BinaryOp::Eq, -0.0, 0.0), RValue::Bool(true));
        assert_eq!(cmp(BinaryOp::Gt, f64::NAN, 1.0), RValue::Bool(true));
        assert_eq!(
            cmp(BinaryOp::Gt, f64::NAN, f64::INFINITY),
            RValue::Bool(true)
        );
        assert_eq!(cmp(BinaryOp::Eq, f64::NAN, -f64::NAN), RValue::Bool(true));
        assert_eq!(
            cmp(BinaryOp::NotEq, f64::NAN, f64::NAN),
            RValue::Bool(false)
        );
        assert_eq!(cmp(BinaryOp::Lt, -1.0, -0.0), RValue::Bool(true));
    }

    #[test]
    fn division_and_modulo_by_zero_are_null_and_overflow_is_an_error() {
        assert_eq!(
            binary(BinaryOp::Div, RValue::Int(1), RValue::Float(-0.0)),
            Ok(RValue::Null)
        );
        assert_eq!(
            binary(BinaryOp::Mod, RValue::Int(1), RValue::Int(0)),
            Ok(RValue::Null)
        );
        assert!(binary(BinaryOp::Add, RValue::Int(i64::MAX), RValue::Int(1)).is_err());
        assert_eq!(
            binary(BinaryOp::Mod, RValue::Int(-7), RValue::Int(3)),
            Ok(RValue::Int(-1))
        );
    }

    #[test]
    fn and_or_are_three_valued() {
        let t = RValue::Bool(true);
        let f = RValue::Bool(false);
        assert_eq!(
            binary(BinaryOp::And, RValue::Null, f.clone()),
            Ok(f.clone())
        );
        assert_eq!(
            binary(BinaryOp::And, RValue::Null, t.clone()),
            Ok(RValue::Null)
        );
        assert_eq!(binary(BinaryOp::Or, RValue::Null, t.clone()), Ok(t));
        assert_eq!(binary(BinaryOp::Or, RValue::Null, f), Ok(RValue::Null));
    }
}
