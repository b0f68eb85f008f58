//! Structural equality of expressions: `Expr::same_as` (same computation, spans
//! aside) and `Expr::hash_shape`, the hash that agrees with it.

use super::{Expr, ExprKind, Literal};

impl Expr {
    /// True when both expressions compute the same thing: equal trees, types and
    /// nullability, whatever their spans. Float literals are equal when their bits are
    /// (`-0.0` is not `0.0`: `x + -0.0` and `x + 0.0` differ at `x = -0.0`).
    #[recursive::recursive]
    pub fn same_as(&self, other: &Expr) -> bool {
        if self.ty != other.ty || self.nullable != other.nullable {
            return false;
        }
        let all = |a: &[Expr], b: &[Expr]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
        };
        match (&self.kind, &other.kind) {
            (ExprKind::Column(a), ExprKind::Column(b)) => a == b,
            (ExprKind::Literal(a), ExprKind::Literal(b)) => a.same_as(b),
            (ExprKind::Cast(a), ExprKind::Cast(b))
            | (ExprKind::Not(a), ExprKind::Not(b))
            | (ExprKind::Neg(a), ExprKind::Neg(b)) => a.same_as(b),
            (
                ExprKind::Binary { op, lhs, rhs },
                ExprKind::Binary {
                    op: op2,
                    lhs: lhs2,
                    rhs: rhs2,
                },
            ) => op == op2 && lhs.same_as(lhs2) && rhs.same_as(rhs2),
            (
                ExprKind::IsNull { expr, negated },
                ExprKind::IsNull {
                    expr: expr2,
                    negated: negated2,
                },
            ) => negated == negated2 && expr.same_as(expr2),
            (
                ExprKind::InList {
                    expr,
                    list,
                    negated,
                },
                ExprKind::InList {
                    expr: expr2,
                    list: list2,
                    negated: negated2,
                },
            ) => negated == negated2 && expr.same_as(expr2) && all(list, list2),
            (ExprKind::Coalesce(a), ExprKind::Coalesce(b)) => all(a, b),
            (
                ExprKind::Call { func, args },
                ExprKind::Call {
                    func: func2,
                    args: args2,
                },
            ) => func == func2 && all(args, args2),
            (
                ExprKind::Case {
                    branches,
                    otherwise,
                },
                ExprKind::Case {
                    branches: branches2,
                    otherwise: otherwise2,
                },
            ) => {
                branches.len() == branches2.len()
                    && branches
                        .iter()
                        .zip(branches2)
                        .all(|((c, v), (c2, v2))| c.same_as(c2) && v.same_as(v2))
                    && match (otherwise, otherwise2) {
                        (Some(a), Some(b)) => a.same_as(b),
                        (None, None) => true,
                        _ => false,
                    }
            }
            _ => false,
        }
    }
}

impl Expr {
    /// Hashes what `same_as` compares (equal by `same_as` implies equal hashes), so
    /// expressions can be deduplicated in linear time.
    #[recursive::recursive]
    pub fn hash_shape<H: std::hash::Hasher>(&self, h: &mut H) {
        use std::hash::Hash;
        self.ty.hash(h);
        self.nullable.hash(h);
        std::mem::discriminant(&self.kind).hash(h);
        let all = |list: &[Expr], h: &mut H| {
            list.len().hash(h);
            list.iter().for_each(|e| e.hash_shape(h));
        };
        match &self.kind {
            ExprKind::Column(name) => name.hash(h),
            ExprKind::Literal(l) => match l {
                Literal::Null => 0u8.hash(h),
                Literal::Int64(v) => v.hash(h),
                Literal::Float64(v) => v.to_bits().hash(h),
                Literal::String(v) => v.hash(h),
                Literal::Bool(v) => v.hash(h),
                Literal::Decimal(v) => v.hash(h),
            },
            ExprKind::Cast(e) | ExprKind::Not(e) | ExprKind::Neg(e) => e.hash_shape(h),
            ExprKind::Binary { op, lhs, rhs } => {
                op.hash(h);
                lhs.hash_shape(h);
                rhs.hash_shape(h);
            }
            ExprKind::IsNull { expr, negated } => {
                negated.hash(h);
                expr.hash_shape(h);
            }
            ExprKind::InList {
                expr,
                list,
                negated,
            } => {
                negated.hash(h);
                expr.hash_shape(h);
                all(list, h);
            }
            ExprKind::Coalesce(args) => all(args, h),
            ExprKind::Call { func, args } => {
                func.hash(h);
                all(args, h);
            }
            ExprKind::Case {
                branches,
                otherwise,
            } => {
                branches.len().hash(h);
                for (c, v) in branches {
                    c.hash_shape(h);
                    v.hash_shape(h);
                }
                if let Some(o) = otherwise {
                    o.hash_shape(h);
                }
            }
        }
    }

    /// `hash_shape` as one number.
    pub fn shape_key(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash_shape(&mut h);
        std::hash::Hasher::finish(&h)
    }
}

impl Literal {
    /// Equality by value, floats by their bits (see `Expr::same_as`).
    pub fn same_as(&self, other: &Literal) -> bool {
        match (self, other) {
            (Literal::Float64(a), Literal::Float64(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a == b,
        }
    }
}
