//! IR row expressions (lets inlined, as the plan holds them) as SQL expressions, with
//! featc's row rules (semantics.md, "Row transforms"): int64/float64 mixes cast to
//! float64, `/` in float64 with null on a zero divisor, `%` null on a zero divisor,
//! float literals typed (a bare `0.1` is a decimal in several dialects), strings
//! compared by bytes. What a dialect cannot compute exactly is refused (`Blocked`), and
//! so is an as-of lookup's column, which no SQL computes yet.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr};

use super::ast::{self, binary, call, case, cast, in_list, is_null, neg, not, null, or};
use super::dialect::{CheckedOp, Flavor, SqlType};
use super::refusal::Reason;
use crate::ir::{self, BinaryOp, DataType, ExprKind, Function, Literal, SourceSpan};

/// Why an expression has no SQL: the reason and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub reason: Reason,
    pub span: SourceSpan,
}

/// Lowers IR expressions for one dialect; `column` says how a column name is read.
pub struct Lowering<'a> {
    pub flavor: &'a dyn Flavor,
    pub column: &'a dyn Fn(&str) -> Expr,
}

/// A float64 literal: `CAST(0.1 AS DOUBLE)`, the non-finite ones and `-0.0` from
/// their text.
pub fn float<F: Flavor + ?Sized>(flavor: &F, v: f64) -> Expr {
    let double = flavor.sql_type(SqlType::Float64);
    if v.is_nan() {
        return cast(flavor.string("NaN"), double);
    }
    if v.is_infinite() {
        let text = if v > 0.0 { "Infinity" } else { "-Infinity" };
        return cast(flavor.string(text), double);
    }
    if v == 0.0 && v.is_sign_negative() {
        return cast(flavor.string("-0"), double);
    }
    let text = format!("{v:?}");
    match text.strip_prefix('-') {
        Some(positive) => neg(cast(ast::number(positive), double)),
        None => cast(ast::number(text), double),
    }
}

/// An int64 literal (`i64::MIN` has no positive counterpart to negate).
pub fn int<F: Flavor + ?Sized>(flavor: &F, v: i64) -> Expr {
    if v == i64::MIN {
        return cast(
            flavor.string(&v.to_string()),
            flavor.sql_type(SqlType::Int64),
        );
    }
    ast::int(v)
}

/// `e` of type `from` as type `to` (int64 to float64; otherwise unchanged).
pub fn to_type<F: Flavor + ?Sized>(flavor: &F, e: Expr, from: DataType, to: DataType) -> Expr {
    match (from, to) {
        (DataType::Int64, DataType::Float64) => cast(e, flavor.sql_type(SqlType::Float64)),
        _ => e,
    }
}

fn promote(a: DataType, b: DataType) -> DataType {
    match (a, b) {
        (DataType::Int64, DataType::Float64) | (DataType::Float64, DataType::Int64) => {
            DataType::Float64
        }
        (a, _) => a,
    }
}

impl Lowering<'_> {
    pub fn lower(&self, e: &ir::Expr) -> Result<Expr, Blocked> {
        self.expr(e)
    }

    fn blocked<T>(&self, reason: Reason, span: SourceSpan) -> Result<T, Blocked> {
        Err(Blocked { reason, span })
    }

    fn typed(&self, e: &ir::Expr, to: DataType) -> Result<Expr, Blocked> {
        Ok(to_type(self.flavor, self.expr(e)?, e.ty, to))
    }

    #[recursive::recursive]
    fn expr(&self, e: &ir::Expr) -> Result<Expr, Blocked> {
        let f = self.flavor;
        // Each dialect has its own decimal result types, rounding and overflow rules
        // (sums, division, arithmetic): no expression reading a decimal is emitted.
        if e.ty.is_decimal() {
            return self.blocked(
                Reason::Operation {
                    name: "decimal arithmetic".to_string(),
                },
                e.span,
            );
        }
        Ok(match &e.kind {
            // An as-of lookup's column is no source column: no SQL computes it yet.
            ExprKind::Column(name) if ir::Lookup::is_lookup_column(name) => {
                return self.blocked(
                    Reason::Lookup {
                        column: name.clone(),
                    },
                    e.span,
                )
            }
            ExprKind::Column(name) => (self.column)(name),
            ExprKind::Literal(lit) => match lit {
                Literal::Null => null(),
                Literal::Int64(v) => int(f, *v),
                Literal::Float64(v) => float(f, *v),
                Literal::String(s) => f.string(s),
                Literal::Bool(b) => ast::boolean(*b),
                // Typed decimal: refused with every decimal expression above.
                Literal::Decimal(_) => {
                    return self.blocked(
                        Reason::Operation {
                            name: "decimal arithmetic".to_string(),
                        },
                        e.span,
                    )
                }
            },
            ExprKind::Cast(inner) => self.typed(inner, e.ty)?,
            ExprKind::Not(inner) => not(self.expr(inner)?),
            ExprKind::Neg(inner) => match e.ty {
                DataType::Float64 => neg(self.typed(inner, DataType::Float64)?),
                _ => match f.checked_int(CheckedOp::Neg, vec![self.expr(inner)?]) {
                    Some(sql) => sql,
                    None => return self.blocked(Reason::IntArithmetic { op: "-".into() }, e.span),
                },
            },
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e)?,
            ExprKind::IsNull { expr, negated } => is_null(self.expr(expr)?, *negated),
            ExprKind::InList {
                expr,
                list,
                negated,
            } => {
                let common = list.iter().fold(expr.ty, |t, i| promote(t, i.ty));
                let x = self.flavor.eq_operand(self.typed(expr, common)?, common);
                let items = list
                    .iter()
                    .map(|i| Ok(self.flavor.eq_operand(self.typed(i, common)?, common)))
                    .collect::<Result<Vec<_>, _>>()?;
                if common == DataType::Float64 {
                    // SQL's definition, an `or` of `=` (what featc evaluates).
                    let (cmp, join) = match negated {
                        true => (BinaryOperator::NotEq, BinaryOperator::And),
                        false => (BinaryOperator::Eq, BinaryOperator::Or),
                    };
                    let mut compared = items.into_iter().map(|i| binary(x.clone(), cmp.clone(), i));
                    match compared.next() {
                        Some(first) => compared.fold(first, |acc, c| binary(acc, join.clone(), c)),
                        None => ast::boolean(*negated),
                    }
                } else {
                    in_list(x, items, *negated)
                }
            }
            ExprKind::Coalesce(args) => call(
                "COALESCE",
                args.iter()
                    .map(|a| self.typed(a, e.ty))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            ExprKind::Case {
                branches,
                otherwise,
            } => {
                let mut arms = Vec::with_capacity(branches.len());
                for (c, v) in branches {
                    arms.push((self.expr(c)?, self.typed(v, e.ty)?));
                }
                let otherwise = match otherwise {
                    Some(o) => Some(self.typed(o, e.ty)?),
                    None => None,
                };
                case(arms, otherwise)
            }
            ExprKind::Call { func, args } => {
                if *func == ir::Function::Abs && e.ty == DataType::Int64 {
                    return self.blocked(Reason::IntArithmetic { op: "abs".into() }, e.span);
                }
                let lowered = args
                    .iter()
                    .map(|a| Ok((self.expr(a)?, a.ty)))
                    .collect::<Result<Vec<_>, Blocked>>()?;
                match f.function(*func, lowered, e.ty) {
                    Some(sql) => sql,
                    None => {
                        return self.blocked(
                            Reason::Operation {
                                name: format!("`{}`", func.name()),
                            },
                            e.span,
                        )
                    }
                }
            }
        })
    }

    fn binary(
        &self,
        op: BinaryOp,
        lhs: &ir::Expr,
        rhs: &ir::Expr,
        e: &ir::Expr,
    ) -> Result<Expr, Blocked> {
        let f = self.flavor;
        let common = promote(lhs.ty, rhs.ty);
        let operands = || -> Result<(Expr, Expr), Blocked> {
            Ok((self.typed(lhs, common)?, self.typed(rhs, common)?))
        };
        let int_op =
            |symbol: &str| self.blocked(Reason::IntArithmetic { op: symbol.into() }, e.span);
        // A float divisor, null when it is zero (either zero: `-0.0` too), as the
        // dialect's `nullif` compares.
        let nonzero = |r: Expr| {
            let zero = (super::expr::float(f, 0.0), DataType::Float64);
            f.function(
                Function::Nullif,
                vec![(r.clone(), DataType::Float64), zero],
                DataType::Float64,
            )
            .unwrap_or_else(|| call("NULLIF", vec![r, super::expr::float(f, 0.0)]))
        };
        Ok(match op {
            BinaryOp::And => binary(self.expr(lhs)?, BinaryOperator::And, self.expr(rhs)?),
            BinaryOp::Or => or(self.expr(lhs)?, self.expr(rhs)?),
            BinaryOp::Eq | BinaryOp::NotEq => {
                let (l, r) = operands()?;
                let cmp = match op {
                    BinaryOp::Eq => BinaryOperator::Eq,
                    _ => BinaryOperator::NotEq,
                };
                binary(f.eq_operand(l, common), cmp, f.eq_operand(r, common))
            }
            BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => {
                let (l, r) = operands()?;
                let cmp = match op {
                    BinaryOp::Lt => BinaryOperator::Lt,
                    BinaryOp::LtEq => BinaryOperator::LtEq,
                    BinaryOp::Gt => BinaryOperator::Gt,
                    _ => BinaryOperator::GtEq,
                };
                binary(f.collate(l, common), cmp, f.collate(r, common))
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul if common == DataType::Int64 => {
                let checked = match op {
                    BinaryOp::Add => CheckedOp::Add,
                    BinaryOp::Sub => CheckedOp::Sub,
                    _ => CheckedOp::Mul,
                };
                let (l, r) = operands()?;
                match f.checked_int(checked, vec![l, r]) {
                    Some(sql) => sql,
                    None => return int_op(op.symbol()),
                }
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => {
                let (l, r) = operands()?;
                let arith = match op {
                    BinaryOp::Add => BinaryOperator::Plus,
                    BinaryOp::Sub => BinaryOperator::Minus,
                    _ => BinaryOperator::Multiply,
                };
                binary(l, arith, r)
            }
            BinaryOp::Div => {
                let l = self.typed(lhs, DataType::Float64)?;
                let r = self.typed(rhs, DataType::Float64)?;
                binary(l, BinaryOperator::Divide, nonzero(r))
            }
            BinaryOp::Mod if common == DataType::Int64 => return int_op("%"),
            BinaryOp::Mod => {
                if !f.has_float_mod() {
                    return self.blocked(
                        Reason::Operation {
                            name: "float64 `%`".into(),
                        },
                        e.span,
                    );
                }
                let (l, r) = operands()?;
                binary(l, BinaryOperator::Modulo, nonzero(r))
            }
        })
    }
}
