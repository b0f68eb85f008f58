//! The row functions of semantics.md ("Functions") as SQL: the formulations most
//! dialects share, each exact where the dialect's built-in alone is not (`sqrt` and
//! `ln` null outside their domain, `haversine` in featc's order of operations). A
//! dialect's file overrides or refuses the ones its engine computes otherwise.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr};

use super::ast::{binary, call, case, cast, null};
use super::dialect::{Flavor, SqlType};
use super::expr::float;
use crate::ir::{DataType, Function};

/// The shared formulation of `func` (see the module docs); `None` when there is none.
pub fn portable<F: Flavor + ?Sized>(
    flavor: &F,
    func: Function,
    args: Vec<(Expr, DataType)>,
    ty: DataType,
) -> Option<Expr> {
    let int_result = ty == DataType::Int64;
    let mut it = args.into_iter().map(|(e, _)| e);
    let mut next = || it.next();
    Some(match func {
        // List functions: a feature reading a list column is refused first (E0040).
        Function::Size
        | Function::ElementAt
        | Function::Dot
        | Function::Cosine
        | Function::L2Distance => return None,
        // int64 `abs` is refused before this (it overflows); floats clear the sign.
        Function::Abs if !int_result => call("abs", vec![next()?]),
        Function::Abs => return None,
        Function::Sqrt => domain(flavor, "sqrt", next()?, BinaryOperator::Lt),
        Function::Ln => domain(flavor, "ln", next()?, BinaryOperator::LtEq),
        Function::Exp => call("exp", vec![next()?]),
        Function::Pow => call("power", vec![next()?, next()?]),
        // Integers are returned unchanged.
        Function::Floor | Function::Ceil | Function::Round if int_result => next()?,
        Function::Floor => call("FLOOR", vec![next()?]),
        Function::Ceil => call("CEIL", vec![next()?]),
        Function::Round => call("round", vec![next()?]),
        Function::Least | Function::Greatest => {
            let name = if func == Function::Least {
                "least"
            } else {
                "greatest"
            };
            let args: Vec<Expr> = std::iter::from_fn(next)
                .map(|a| flavor.order_key(a, ty))
                .collect();
            call(name, args)
        }
        Function::Nullif => call("NULLIF", vec![next()?, next()?]),
        Function::Lower => call("lower", vec![next()?]),
        Function::Upper => call("upper", vec![next()?]),
        Function::Length => cast(
            call("character_length", vec![next()?]),
            flavor.sql_type(SqlType::Int64),
        ),
        Function::StartsWith => call("starts_with", vec![next()?, next()?]),
        Function::EndsWith => call("ends_with", vec![next()?, next()?]),
        Function::Contains => call("contains", vec![next()?, next()?]),
        Function::Concat => {
            let first = next()?;
            std::iter::from_fn(next)
                .fold(first, |acc, a| binary(acc, BinaryOperator::StringConcat, a))
        }
        Function::Substr => return None,
        Function::Haversine => haversine(flavor, next()?, next()?, next()?, next()?),
    })
}

/// `CASE WHEN x OP 0 THEN NULL ELSE name(x) END`: null outside the domain (a NaN
/// compares above every number in these engines, so it reaches `name`).
fn domain<F: Flavor + ?Sized>(flavor: &F, name: &str, x: Expr, op: BinaryOperator) -> Expr {
    case(
        vec![(binary(x.clone(), op, float(flavor, 0.0)), null())],
        Some(call(name, vec![x])),
    )
}

/// semantics.md's haversine, operation by operation (`to_radians` is a product by
/// `PI / 180`, as Rust computes it).
fn haversine<F: Flavor + ?Sized>(
    flavor: &F,
    lat1: Expr,
    lon1: Expr,
    lat2: Expr,
    lon2: Expr,
) -> Expr {
    let radians = |e: Expr| {
        binary(
            e,
            BinaryOperator::Multiply,
            float(flavor, std::f64::consts::PI / 180.0),
        )
    };
    let half = |e: Expr| binary(e, BinaryOperator::Divide, float(flavor, 2.0));
    let mul = |a: Expr, b: Expr| binary(a, BinaryOperator::Multiply, b);
    let phi1 = radians(lat1.clone());
    let phi2 = radians(lat2.clone());
    let d_phi = radians(binary(lat2, BinaryOperator::Minus, lat1));
    let d_lambda = radians(binary(lon2, BinaryOperator::Minus, lon1));
    let s1 = call("sin", vec![half(d_phi)]);
    let s2 = call("sin", vec![half(d_lambda)]);
    let a = binary(
        mul(s1.clone(), s1),
        BinaryOperator::Plus,
        mul(
            mul(call("cos", vec![phi1]), call("cos", vec![phi2])),
            mul(s2.clone(), s2),
        ),
    );
    let h = call("sqrt", vec![a]);
    // `h = 1` if `h > 1`, so a NaN stays NaN (it compares above 1 in SQL).
    let clamped = case(
        vec![
            (flavor.is_nan(h.clone()), h.clone()),
            (
                binary(h.clone(), BinaryOperator::Gt, float(flavor, 1.0)),
                float(flavor, 1.0),
            ),
        ],
        Some(h),
    );
    mul(float(flavor, 6371.0 * 2.0), call("asin", vec![clamped]))
}
