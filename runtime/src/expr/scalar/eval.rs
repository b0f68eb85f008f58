//! Evaluating a scalar program's nodes on one row of values: each node evaluates what
//! its DataFusion counterpart evaluates on a one-row batch (so fails where it fails)
//! and computes its value with the same kernel or rule.

use std::cmp::Ordering;

use super::node::{FloatOp, Math, Node};
use super::ops::{bool_value, compare, kleene, truth};
use super::Fallback;
use crate::expr::arith;
use crate::expr::functions::compare::{keeps_best, sql_float_eq};
use crate::expr::functions::math;
use crate::ir::BinaryOp;
use crate::value::Value;

impl Node {
    /// This node's value on `row`, or why the batch path must give the outcome.
    pub(super) fn eval(&self, row: &[Value]) -> Result<Value, Fallback> {
        Ok(match self {
            Node::Input(i) => row.get(*i).cloned().ok_or(Fallback::Batch)?,
            Node::Const(v) => v.clone(),
            Node::IntToFloat(x) => match x.eval(row)? {
                Value::Int64(v) => Value::Float64(v as f64),
                v => null(&v)?,
            },
            Node::NegInt(x) => match x.eval(row)? {
                Value::Int64(v) => Value::Int64(arith::neg_int(v).map_err(|_| Fallback::Error)?),
                v => null(&v)?,
            },
            Node::NegFloat(x) => match x.eval(row)? {
                Value::Float64(v) => Value::Float64(-v),
                v => null(&v)?,
            },
            Node::Not(x) => bool_value(truth(&x.eval(row)?)?.map(|b| !b)),
            Node::IntArith(f, operands) => {
                // Both operands first, as the function's arguments are.
                let (l, r) = both(operands, row)?;
                match (l, r) {
                    (Value::Int64(x), Value::Int64(y)) => f(x, y)
                        .map_err(|_| Fallback::Error)?
                        .map_or(Value::Null, Value::Int64),
                    (l, r) => nulls(&l, &r)?,
                }
            }
            Node::FloatArith(op, operands) => match both(operands, row)? {
                // Of two NaNs, IEEE leaves which one `+` or `*` returns to the hardware's
                // operand order, and the compiler may swap the operands of a commutative
                // instruction (in Arrow's kernel, or here): the batch path says which.
                (Value::Float64(x), Value::Float64(y))
                    if x.is_nan() && y.is_nan() && matches!(op, FloatOp::Add | FloatOp::Mul) =>
                {
                    return Err(Fallback::Batch)
                }
                (Value::Float64(x), Value::Float64(y)) => match op {
                    FloatOp::Add => Value::Float64(x + y),
                    FloatOp::Sub => Value::Float64(x - y),
                    FloatOp::Mul => Value::Float64(x * y),
                    FloatOp::Featc(f) => f(x, y).map_or(Value::Null, Value::Float64),
                },
                (l, r) => nulls(&l, &r)?,
            },
            Node::Compare(op, operands) => {
                let (l, r) = both(operands, row)?;
                compare(*op, &l, &r)?
            }
            Node::Logic(is_and, operands) => {
                let (l, r) = both(operands, row)?;
                bool_value(kleene(*is_and, truth(&l)?, truth(&r)?))
            }
            Node::IsNull { operand, negated } => {
                Value::Bool(operand.eval(row)?.is_null() != *negated)
            }
            Node::InSet {
                operand,
                items,
                negated,
            } => {
                let x = operand.eval(row)?;
                // `InListExpr` without a constant set: or-ed equalities, stopping once
                // true (a constant set has no item left to evaluate, nor to fail).
                let mut found = Some(false);
                for item in items {
                    if found == Some(true) {
                        break;
                    }
                    let equal = truth(&compare(BinaryOp::Eq, &x, &item.eval(row)?)?)?;
                    found = kleene(false, found, equal);
                }
                bool_value(if *negated { found.map(|f| !f) } else { found })
            }
            Node::InChain {
                operand,
                items,
                negated,
            } => {
                let x = operand.eval(row)?;
                // `x = a or x = b ...`, or `x <> a and x <> b ...`: starting from the
                // join's identity, every item compared.
                let (op, is_and) = match negated {
                    true => (BinaryOp::NotEq, true),
                    false => (BinaryOp::Eq, false),
                };
                let mut all = Some(is_and);
                for item in items {
                    let holds = truth(&compare(op, &x, &item.eval(row)?)?)?;
                    all = kleene(is_and, all, holds);
                }
                bool_value(all)
            }
            Node::Case {
                branches,
                otherwise,
            } => {
                for (condition, value) in branches {
                    if truth(&condition.eval(row)?)? == Some(true) {
                        return value.eval(row);
                    }
                }
                match otherwise {
                    Some(o) => o.eval(row)?,
                    None => Value::Null,
                }
            }
            Node::Coalesce(args) => {
                for a in args {
                    let v = a.eval(row)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                Value::Null
            }
            Node::Math(m, x) => math_of(*m, x.eval(row)?)?,
            Node::Pow(operands) => match both(operands, row)? {
                (Value::Float64(x), Value::Float64(y)) => Value::Float64(math::pow(x, y)),
                (l, r) => nulls(&l, &r)?,
            },
            Node::Pick(wins, args) => {
                // Every argument is evaluated (a call's arguments are), nulls skipped.
                let mut best: Option<Value> = None;
                for a in args {
                    let v = a.eval(row)?;
                    if v.is_null() {
                        continue;
                    }
                    best = match best {
                        Some(b) if keeps_best(total_order(&v, &b)?, *wins) => Some(b),
                        _ => Some(v),
                    };
                }
                best.unwrap_or(Value::Null)
            }
            Node::NullIf(operands) => {
                let (a, b) = both(operands, row)?;
                let equal = match (&a, &b) {
                    (Value::Null, _) | (_, Value::Null) => false,
                    (Value::Float64(x), Value::Float64(y)) => sql_float_eq(*x, *y),
                    (x, y) => total_order(x, y)? == Ordering::Equal,
                };
                if equal {
                    Value::Null
                } else {
                    a
                }
            }
        })
    }
}

/// Both operands' values, left first.
fn both(operands: &[Node; 2], row: &[Value]) -> Result<(Value, Value), Fallback> {
    let [l, r] = operands;
    Ok((l.eval(row)?, r.eval(row)?))
}

/// Null for a null operand; any other value is of a type the node does not take.
fn null(v: &Value) -> Result<Value, Fallback> {
    match v {
        Value::Null => Ok(Value::Null),
        _ => Err(Fallback::Batch),
    }
}

/// Null when either operand is null (null in, null out); otherwise the operands are of
/// a type the node does not take.
fn nulls(l: &Value, r: &Value) -> Result<Value, Fallback> {
    match l.is_null() || r.is_null() {
        true => Ok(Value::Null),
        false => Err(Fallback::Batch),
    }
}

/// featc's total order between two values of one type (`least`, `greatest` and a
/// non-float `nullif`, as `functions::compare` orders them: `value::float_cmp` for
/// floats, strings by bytes, `false < true`).
fn total_order(a: &Value, b: &Value) -> Result<Ordering, Fallback> {
    match a.data_type() == b.data_type() {
        true => Ok(a.total_cmp(b)),
        false => Err(Fallback::Batch),
    }
}

/// A one-argument math function through `functions::math`'s kernels.
fn math_of(m: Math, v: Value) -> Result<Value, Fallback> {
    Ok(match (m, v) {
        (_, Value::Null) => Value::Null,
        (Math::AbsInt, Value::Int64(x)) => Value::Int64(math::abs_int(x).ok_or(Fallback::Error)?),
        (Math::IntIdentity, Value::Int64(x)) => Value::Int64(x),
        (Math::AbsFloat, Value::Float64(x)) => Value::Float64(math::abs_float(x)),
        (Math::Round(func), Value::Float64(x)) => Value::Float64(math::round_float(func, x)),
        (Math::Sqrt, Value::Float64(x)) => math::sqrt(x).map_or(Value::Null, Value::Float64),
        (Math::Ln, Value::Float64(x)) => math::ln(x).map_or(Value::Null, Value::Float64),
        (Math::Exp, Value::Float64(x)) => Value::Float64(math::exp(x)),
        _ => return Err(Fallback::Batch),
    })
}
