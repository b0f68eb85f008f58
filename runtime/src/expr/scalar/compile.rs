//! IR expressions to scalar programs, following `expr::lower` node by node: the same
//! casts (`to_type`'s int64 to float64 only, `promote`, `functions::parameter_types`),
//! the same choice between `InListExpr` and joined comparisons, the same kernels.
//! Anything else is `NotCompiled`.

use std::cmp::Ordering;
use std::sync::Arc;

use super::node::{FloatOp, Math, Node};
use super::{NotCompiled, ScalarProgram};
use crate::expr::functions::parameter_types;
use crate::expr::{arith, in_list_as_comparisons, promote, stack};
use crate::ir::{BinaryOp, DataType, Expr, ExprKind, Function, Literal};
use crate::value::Value;

/// The deepest expression compiled: evaluation recurses once per level, and real
/// derived features are a few levels deep. A deeper one keeps the batch path, which
/// grows its stack for it.
pub const MAX_DEPTH: usize = 64;

/// Compiles `expr` over `inputs` (each input's column name and type, in input order:
/// the batch path's schema) for a feature of type `result`.
pub fn compile(
    expr: &Expr,
    inputs: &[(&str, DataType)],
    result: DataType,
) -> Result<ScalarProgram, NotCompiled> {
    let depth = stack::depth(expr);
    if depth > MAX_DEPTH {
        return Err(NotCompiled::Depth(depth));
    }
    // Every input is a type the scalar path holds, so a read can check a value by its
    // type alone (no Arrow column to build, none that could fail to build).
    for (_, ty) in inputs {
        held(*ty)?;
    }
    // The batch path reads its output as the feature's type: another expression type
    // would not read back (a path not worth mirroring).
    if expr.ty != result {
        return Err(NotCompiled::Node(
            "an expression of another type than its feature",
        ));
    }
    Ok(ScalarProgram {
        root: node(expr, inputs)?,
    })
}

/// `ty` when the scalar path holds its values.
fn held(ty: DataType) -> Result<DataType, NotCompiled> {
    match ty {
        DataType::Int64
        | DataType::Float64
        | DataType::Bool
        | DataType::String
        | DataType::Timestamp
        | DataType::Date => Ok(ty),
        DataType::Decimal { .. } | DataType::List(_) => Err(NotCompiled::Type(ty)),
    }
}

/// A sub-expression's node, as `lower` builds it; its value has type `e.ty`.
fn node(e: &Expr, inputs: &[(&str, DataType)]) -> Result<Node, NotCompiled> {
    held(e.ty)?;
    let sub = |x: &Expr| node(x, inputs);
    // A child's node brought to type `want` as `expr::to_type` brings it.
    let to = |x: &Expr, want: DataType| coerce(sub(x)?, x.ty, want);
    let pair = |l: Node, r: Node| Box::new([l, r]);
    Ok(match &e.kind {
        ExprKind::Column(name) => match inputs.iter().position(|(n, _)| n == name) {
            Some(i) if inputs.get(i).map(|(_, t)| *t) == Some(e.ty) => Node::Input(i),
            _ => {
                return Err(NotCompiled::Node(
                    "a column that is not an input of its type",
                ))
            }
        },
        ExprKind::Literal(lit) => Node::Const(literal(lit, e.ty)?),
        // `check` casts int64 to float64 only; a decimal cast is refused by `held`.
        ExprKind::Cast(inner) => to(inner, e.ty)?,
        ExprKind::Not(inner) => {
            expect(&[inner.ty, e.ty], DataType::Bool)?;
            Node::Not(Box::new(sub(inner)?))
        }
        ExprKind::Neg(inner) => match e.ty {
            DataType::Int64 => {
                expect(&[inner.ty], DataType::Int64)?;
                Node::NegInt(Box::new(sub(inner)?))
            }
            DataType::Float64 => Node::NegFloat(Box::new(to(inner, DataType::Float64)?)),
            _ => return Err(NotCompiled::Node("a negation of a non-number")),
        },
        ExprKind::Binary { op, lhs, rhs } => binary(*op, lhs, rhs, e.ty, inputs)?,
        ExprKind::IsNull {
            expr: inner,
            negated,
        } => {
            expect(&[e.ty], DataType::Bool)?;
            Node::IsNull {
                operand: Box::new(sub(inner)?),
                negated: *negated,
            }
        }
        ExprKind::InList {
            expr: inner,
            list,
            negated,
        } => {
            expect(&[e.ty], DataType::Bool)?;
            if list.is_empty() {
                return Err(NotCompiled::Node("an empty `in` list"));
            }
            let common = list.iter().fold(inner.ty, |t, i| promote(t, i.ty));
            let operand = Box::new(to(inner, common)?);
            let items = list
                .iter()
                .map(|i| to(i, common))
                .collect::<Result<Vec<_>, _>>()?;
            let negated = *negated;
            // `lower`'s choice between joined comparisons and an `InList` (whose
            // items are then constants).
            if in_list_as_comparisons(common, negated, list) {
                Node::InChain {
                    operand,
                    items,
                    negated,
                }
            } else {
                Node::InSet {
                    operand,
                    items,
                    negated,
                }
            }
        }
        ExprKind::Coalesce(args) => {
            let mut args = args
                .iter()
                .map(|a| to(a, e.ty))
                .collect::<Result<Vec<_>, _>>()?;
            match args.len() {
                0 => Node::Const(Value::Null),
                1 => args.pop().unwrap_or(Node::Const(Value::Null)),
                _ => Node::Coalesce(args),
            }
        }
        ExprKind::Case {
            branches,
            otherwise,
        } => {
            let branches = branches
                .iter()
                .map(|(c, v)| {
                    expect(&[c.ty], DataType::Bool)?;
                    Ok((sub(c)?, to(v, e.ty)?))
                })
                .collect::<Result<Vec<_>, NotCompiled>>()?;
            let otherwise = match otherwise {
                Some(o) => Some(Box::new(to(o, e.ty)?)),
                None => None,
            };
            Node::Case {
                branches,
                otherwise,
            }
        }
        ExprKind::Call { func, args } => {
            let types: Vec<DataType> = args.iter().map(|a| a.ty).collect();
            let params = parameter_types(*func, &types, e.ty);
            // `functions::lower` refuses a call whose result is not the node's type.
            if func.result_type(&params) != Some(e.ty) {
                return Err(NotCompiled::Node("a call of another type than its node"));
            }
            let mut args = args
                .iter()
                .zip(&params)
                .map(|(a, &p)| to(a, p))
                .collect::<Result<Vec<_>, _>>()?;
            let int = params.first() == Some(&DataType::Int64);
            let one = |args: &mut Vec<Node>, math: Math| match (args.pop(), args.is_empty()) {
                (Some(x), true) => Ok(Node::Math(math, Box::new(x))),
                _ => Err(NotCompiled::Node("a call with another number of arguments")),
            };
            let two = |args: &mut Vec<Node>| match (args.pop(), args.pop(), args.is_empty()) {
                (Some(r), Some(l), true) => Ok(pair(l, r)),
                _ => Err(NotCompiled::Node("a call with another number of arguments")),
            };
            match func {
                Function::Abs if int => one(&mut args, Math::AbsInt)?,
                Function::Abs => one(&mut args, Math::AbsFloat)?,
                Function::Floor | Function::Ceil | Function::Round if int => {
                    one(&mut args, Math::IntIdentity)?
                }
                Function::Floor | Function::Ceil | Function::Round => {
                    one(&mut args, Math::Round(*func))?
                }
                Function::Sqrt => one(&mut args, Math::Sqrt)?,
                Function::Ln => one(&mut args, Math::Ln)?,
                Function::Exp => one(&mut args, Math::Exp)?,
                Function::Pow => Node::Pow(two(&mut args)?),
                Function::Least => Node::Pick(Ordering::Less, args),
                Function::Greatest => Node::Pick(Ordering::Greater, args),
                Function::Nullif => Node::NullIf(two(&mut args)?),
                Function::Lower
                | Function::Upper
                | Function::Length
                | Function::StartsWith
                | Function::EndsWith
                | Function::Contains
                | Function::Concat
                | Function::Substr
                | Function::Haversine
                | Function::Size
                | Function::ElementAt
                | Function::Dot
                | Function::Cosine
                | Function::L2Distance => return Err(NotCompiled::Function(*func)),
            }
        }
    })
}

/// A binary operator as `lower` and `expr::binary` lower it (decimal operands are
/// refused by `held` before).
fn binary(
    op: BinaryOp,
    lhs: &Expr,
    rhs: &Expr,
    ty: DataType,
    inputs: &[(&str, DataType)],
) -> Result<Node, NotCompiled> {
    let to = |x: &Expr, want: DataType| coerce(node(x, inputs)?, x.ty, want);
    let common = promote(lhs.ty, rhs.ty);
    let both = |t: DataType| Ok::<_, NotCompiled>(Box::new([to(lhs, t)?, to(rhs, t)?]));
    use BinaryOp::*;
    Ok(match op {
        // Eager or not (`logic`), both sides are evaluated here: a side that is not
        // eager cannot fail, so evaluating it changes nothing.
        And | Or => {
            expect(&[lhs.ty, rhs.ty, ty], DataType::Bool)?;
            Node::Logic(op == And, both(DataType::Bool)?)
        }
        Eq | NotEq | Lt | LtEq | Gt | GtEq => {
            expect(&[ty], DataType::Bool)?;
            Node::Compare(op, both(common)?)
        }
        Div => {
            expect(&[ty], DataType::Float64)?;
            Node::FloatArith(FloatOp::Featc(arith::div), both(DataType::Float64)?)
        }
        Add | Sub | Mul | Mod if common == DataType::Int64 => {
            expect(&[ty], DataType::Int64)?;
            let f: arith::IntFn = match op {
                Add => arith::add_int,
                Sub => arith::sub_int,
                Mul => arith::mul_int,
                _ => arith::mod_int,
            };
            Node::IntArith(f, both(DataType::Int64)?)
        }
        Add | Sub | Mul | Mod if common == DataType::Float64 => {
            expect(&[ty], DataType::Float64)?;
            let f = match op {
                Add => FloatOp::Add,
                Sub => FloatOp::Sub,
                Mul => FloatOp::Mul,
                _ => FloatOp::Featc(arith::mod_float),
            };
            Node::FloatArith(f, both(DataType::Float64)?)
        }
        Add | Sub | Mul | Mod => return Err(NotCompiled::Node("arithmetic on non-numbers")),
    })
}

/// `n` (of type `from`) brought to `to` as `expr::to_type` does: int64 to float64 is a
/// cast, equal types are unchanged; anything else the lowering would hand DataFusion
/// mismatched, which the scalar path does not mirror.
fn coerce(n: Node, from: DataType, to: DataType) -> Result<Node, NotCompiled> {
    match (from, to) {
        (DataType::Int64, DataType::Float64) => Ok(Node::IntToFloat(Box::new(n))),
        _ if from == to => Ok(n),
        _ => Err(NotCompiled::Node("a cast other than int64 to float64")),
    }
}

/// Every type in `types` is `want`.
fn expect(types: &[DataType], want: DataType) -> Result<(), NotCompiled> {
    match types.iter().all(|t| *t == want) {
        true => Ok(()),
        false => Err(NotCompiled::Node("an operand of an unexpected type")),
    }
}

/// A literal's value as `expr::literal` types it (`ty` is the literal node's type).
fn literal(lit: &Literal, ty: DataType) -> Result<Value, NotCompiled> {
    Ok(match (lit, ty) {
        (Literal::Null, _) => Value::Null,
        (Literal::Int64(v), DataType::Float64) => Value::Float64(*v as f64),
        (Literal::Int64(v), DataType::Int64) => Value::Int64(*v),
        (Literal::Float64(v), DataType::Float64) => Value::Float64(*v),
        (Literal::String(s), DataType::String) => Value::String(Arc::from(s.as_str())),
        (Literal::Bool(b), DataType::Bool) => Value::Bool(*b),
        _ => return Err(NotCompiled::Node("a literal of another type than its node")),
    })
}
