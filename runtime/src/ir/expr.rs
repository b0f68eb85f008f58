//! Typed row expressions: `Expr`, its node kinds, literals and binary operators, and
//! the walks every pass shares (`ExprKind::try_map_children`, `Expr::columns_into`).

use serde::{Deserialize, Serialize};

use super::{DataType, Function, SourceSpan};

/// A typed per-row expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: DataType,
    pub nullable: bool,
    pub span: SourceSpan,
}

/// The column `source()` reads: the name of the event's source, a non-null string.
/// No source column can have this name (it is not an identifier), so a view's
/// expressions read it as a column that every path supplies: a literal where the
/// group has one source, a constant column per source where it has several.
pub const SOURCE_NAME_COLUMN: &str = "source()";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExprKind {
    /// A source column (including the time column, as `Timestamp`) or an earlier `let`.
    Column(String),
    Literal(Literal),
    /// Numeric promotion inserted by `check` (int64 to float64 only).
    Cast(Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// Every item has the type of `expr` (after promotion).
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// First non-null argument; all arguments share the result type.
    Coalesce(Vec<Expr>),
    /// `case when c then v ... else e end` (and `if(c, a, b)`); a null condition is false.
    Case {
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    /// A row function (`abs(x)`, `substr(s, 1, 3)`, ...): every argument is
    /// evaluated, then the function; argument types as `Function::result_type` takes
    /// them (ints already cast where it wants floats).
    Call {
        func: Function,
        args: Vec<Expr>,
    },
}

impl ExprKind {
    /// This node with every child expression replaced by `f` of it (a leaf is
    /// cloned): the one place that lists a node's children for a rewrite, so a
    /// rewriter matches only the nodes it changes.
    pub fn try_map_children<E>(
        &self,
        f: &mut dyn FnMut(&Expr) -> Result<Expr, E>,
    ) -> Result<ExprKind, E> {
        let mut boxed = |e: &Expr| f(e).map(Box::new);
        Ok(match self {
            ExprKind::Column(_) | ExprKind::Literal(_) => self.clone(),
            ExprKind::Cast(e) => ExprKind::Cast(boxed(e)?),
            ExprKind::Not(e) => ExprKind::Not(boxed(e)?),
            ExprKind::Neg(e) => ExprKind::Neg(boxed(e)?),
            ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
                op: *op,
                lhs: boxed(lhs)?,
                rhs: boxed(rhs)?,
            },
            ExprKind::IsNull { expr, negated } => ExprKind::IsNull {
                expr: boxed(expr)?,
                negated: *negated,
            },
            ExprKind::InList {
                expr,
                list,
                negated,
            } => ExprKind::InList {
                expr: boxed(expr)?,
                list: list.iter().map(&mut *f).collect::<Result<_, E>>()?,
                negated: *negated,
            },
            ExprKind::Coalesce(args) => {
                ExprKind::Coalesce(args.iter().map(&mut *f).collect::<Result<_, E>>()?)
            }
            ExprKind::Call { func, args } => ExprKind::Call {
                func: *func,
                args: args.iter().map(&mut *f).collect::<Result<_, E>>()?,
            },
            ExprKind::Case {
                branches,
                otherwise,
            } => ExprKind::Case {
                branches: branches
                    .iter()
                    .map(|(c, v)| Ok((f(c)?, f(v)?)))
                    .collect::<Result<_, E>>()?,
                otherwise: match otherwise {
                    Some(o) => Some(Box::new(f(o)?)),
                    None => None,
                },
            },
        })
    }
}

/// A literal value in an expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Literal {
    /// A typed null (its type is the expression's `ty`).
    Null,
    Int64(i64),
    Float64(f64),
    String(String),
    Bool(bool),
    /// An exact decimal, its unscaled value: the expression's `ty` is the
    /// `decimal(p, s)` it was written as (`12.50` is `decimal(4, 2)`, 1250).
    Decimal(i128),
}

/// Binary operators with their typing rules (enforced by `check`):
/// - `Add Sub Mul Mod` on two int64 give int64 (overflow is an error; `x % 0` is
///   null); with a float64 operand both sides are float64.
/// - `Div` always gives float64 (ints promoted); division by zero gives null.
/// - comparisons take two operands of one type (int64/float64 promote) and give bool.
/// - `And Or` take bools, with SQL three-valued logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
        )
    }
}

impl Expr {
    /// Appends the columns this expression reads to `out`, each once, in order of
    /// first use.
    #[recursive::recursive]
    pub fn columns_into(&self, out: &mut Vec<String>) {
        match &self.kind {
            ExprKind::Column(name) => {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
            ExprKind::Literal(_) => {}
            ExprKind::Cast(e) | ExprKind::Not(e) | ExprKind::Neg(e) => e.columns_into(out),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.columns_into(out);
                rhs.columns_into(out);
            }
            ExprKind::IsNull { expr, .. } => expr.columns_into(out),
            ExprKind::InList { expr, list, .. } => {
                expr.columns_into(out);
                list.iter().for_each(|e| e.columns_into(out));
            }
            ExprKind::Coalesce(args) | ExprKind::Call { args, .. } => {
                args.iter().for_each(|e| e.columns_into(out))
            }
            ExprKind::Case {
                branches,
                otherwise,
            } => {
                for (c, v) in branches {
                    c.columns_into(out);
                    v.columns_into(out);
                }
                if let Some(o) = otherwise {
                    o.columns_into(out);
                }
            }
        }
    }
}
