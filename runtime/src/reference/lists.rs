//! The list functions for the oracle (semantics.md "List columns and embeddings"),
//! on one row's values: `size`, `element_at`, `contains` written here from the page;
//! `dot`, `cosine`, `l2_distance` through `row::vector`, the one float arithmetic the
//! page fixes for every path (index order, plain f64), so only the nulls and
//! lengths around it are the oracle's own.

use super::value::RValue;
use super::EvalError;
use crate::ir::Function;
use crate::row::vector;

fn items(func: Function, v: &RValue) -> Result<&[RValue], EvalError> {
    match v {
        RValue::List(items) => Ok(items),
        v => Err(EvalError::OperandKind {
            what: func.name(),
            found: v.kind_name(),
        }),
    }
}

/// `func` of non-null arguments `args` (the caller returned null for a null one).
pub fn call(func: Function, args: &[RValue]) -> Result<RValue, EvalError> {
    let arg = |i: usize| {
        args.get(i).ok_or(EvalError::MissingArgument {
            function: func.name(),
            index: i,
        })
    };
    let xs = items(func, arg(0)?)?;
    Ok(match func {
        Function::Size => RValue::Int(xs.len() as i64),
        Function::ElementAt => {
            let RValue::Int(i) = *arg(1)? else {
                return Err(EvalError::OperandKind {
                    what: func.name(),
                    found: arg(1)?.kind_name(),
                });
            };
            let n = xs.len() as i128;
            let at = if i > 0 {
                i128::from(i) - 1
            } else {
                n + i128::from(i)
            };
            if i == 0 || at < 0 || at >= n {
                RValue::Null
            } else {
                xs[at as usize].clone()
            }
        }
        Function::Contains => {
            let v = arg(1)?;
            let equal = |x: &RValue| match (x, v) {
                (RValue::Float(a), RValue::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
                (x, v) => x == v,
            };
            if xs.iter().any(|x| !x.is_null() && equal(x)) {
                RValue::Bool(true)
            } else if xs.iter().any(RValue::is_null) {
                RValue::Null
            } else {
                RValue::Bool(false)
            }
        }
        Function::Dot | Function::Cosine | Function::L2Distance => {
            let ys = items(func, arg(1)?)?;
            let floats = |l: &[RValue]| -> Option<Vec<f64>> {
                l.iter()
                    .map(|x| match x {
                        RValue::Float(f) => Some(*f),
                        RValue::Int(i) => Some(*i as f64),
                        _ => None,
                    })
                    .collect()
            };
            let (Some(a), Some(b)) = (floats(xs), floats(ys)) else {
                return Ok(RValue::Null);
            };
            if a.len() != b.len() {
                return Ok(RValue::Null);
            }
            let value = match func {
                Function::Dot => Some(vector::dot(&a, &b)),
                Function::L2Distance => Some(vector::l2_distance(&a, &b)),
                _ => vector::cosine(&a, &b),
            };
            value.map_or(RValue::Null, RValue::Float)
        }
        _ => {
            return Err(EvalError::OperandKind {
                what: func.name(),
                found: "a list",
            })
        }
    })
}
