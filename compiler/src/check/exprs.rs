//! Typing of per-row expressions: name lookup in a view's scope, numeric promotion,
//! null typing from context, and nullability.
//!
//! Rules (see also `ir::BinaryOp`):
//! - `+ - * %` on int64 give int64; with a float64 operand the int side is cast and
//!   the result is float64. `/` always gives float64. `/` and `%` are always nullable
//!   (division by zero gives null); other operators are nullable when an operand is.
//! - comparisons take two values of one type (int64 and float64 mix), give bool.
//! - `and`, `or`, `not` and every condition take bool.
//! - `coalesce` arguments, `if`/`case` branches and `in` lists unify to one type
//!   (int64 with float64 gives float64).
//! - `null` takes its type from what it is used with (`coalesce(x, null)`,
//!   `x = null`, a `where`); a null nothing types is an error.
//! - row functions (`ir::Function`) take the argument types its docs list: a number
//!   where a float64 is computed on is cast (`sqrt(n)`), `least`, `greatest` and
//!   `nullif` unify their arguments like `coalesce`, and a null argument takes the
//!   parameter's type (`abs(null)`, whose type nothing fixes, is an error).
//!
//! Checking never stops at the first error: sub-expressions are all checked, and a
//! failed sub-expression yields `None` so that it causes no follow-up errors.

use super::error::{CheckError, Operand};
use super::suggest::closest;

mod lists;
mod nested;
use super::nested::Shape;
use featc_grammar::ast::{self, UnaryOp};
use featc_runtime::ir::{self, BinaryOp, DataType, ExprKind, Function, Literal};
use std::cell::RefCell;

/// What a name in an expression refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Typed {
        ty: DataType,
        nullable: bool,
    },
    /// A `let` whose expression had errors: uses of it report nothing more.
    Poisoned,
}

/// The names an expression can see: in a view, the source's columns (the time column
/// included) and the `let`s declared so far, in declaration order; in a derived
/// feature, the features and request fields it reads.
pub struct Scope {
    /// The source's name (or the derived feature's owner), for messages.
    pub source: String,
    names: Vec<(String, Binding)>,
    /// `a.b` names: (`a.b`, the IR column it becomes, its binding).
    qualified: Vec<(String, String, Binding)>,
    /// `let` names declared further down, for a better message on early use.
    later: Vec<String>,
    /// The view whose rows the scope is (`a.b` there is refused) and the project's
    /// requests, for messages.
    view: Option<String>,
    requests: Vec<String>,
    /// The source's struct and map columns (name, shape, nullable): read by paths
    /// only (`nested`).
    nested: Vec<(String, Shape, bool)>,
    /// The path columns the expressions checked in this scope read, each once.
    paths: RefCell<Vec<ir::Column>>,
}

impl Scope {
    pub fn new(source: &str, later: Vec<String>) -> Scope {
        Scope {
            source: source.to_string(),
            names: Vec::new(),
            qualified: Vec::new(),
            later,
            view: None,
            requests: Vec::new(),
            nested: Vec::new(),
            paths: RefCell::new(Vec::new()),
        }
    }

    /// The scope with the source's struct and map columns.
    pub fn with_nested(mut self, nested: Vec<(String, Shape, bool)>) -> Scope {
        self.nested = nested;
        self
    }

    /// The path columns read so far (see `CheckedSource::add_paths`).
    pub fn take_paths(&self) -> Vec<ir::Column> {
        std::mem::take(&mut *self.paths.borrow_mut())
    }

    /// Says which view the scope's rows belong to and which requests exist, so that
    /// a request field read here gets its own error.
    pub fn in_view(mut self, view: &str, requests: Vec<String>) -> Scope {
        self.view = Some(view.to_string());
        self.requests = requests;
        self
    }

    /// Adds `qualifier.name`, read as the IR column `column`.
    pub fn bind_qualified(&mut self, written: String, column: String, binding: Binding) {
        self.qualified.push((written, column, binding));
    }

    pub fn lookup(&self, name: &str) -> Option<Binding> {
        self.names.iter().find(|(n, _)| n == name).map(|(_, b)| *b)
    }

    /// Adds a name; the caller has checked it is not taken.
    pub fn bind(&mut self, name: &str, binding: Binding) {
        self.names.push((name.to_string(), binding));
        if let Some(i) = self.later.iter().position(|n| n == name) {
            self.later.remove(i);
        }
    }
}

/// Converts a syntax span to an IR span (same file numbering).
pub fn span(s: ast::Span) -> ir::SourceSpan {
    ir::SourceSpan {
        file: s.file,
        start: s.start,
        end: s.end,
    }
}

/// An expression checked bottom-up. `known` is false for an untyped null (or a
/// `coalesce`/`case` of only untyped nulls): its `ty` is a placeholder until the
/// context assigns one.
struct Typed {
    expr: ir::Expr,
    known: bool,
}

impl Typed {
    fn operand(&self) -> Operand {
        Operand {
            span: ast_span(self.expr.span),
            ty: self.expr.ty,
        }
    }
}

/// A typed list (a list column, or a let naming one).
fn is_list(t: &Typed) -> bool {
    t.known && t.expr.ty.list().is_some()
}

/// Converts an IR span back to a syntax span (for diagnostics).
pub fn ast_span(s: ir::SourceSpan) -> ast::Span {
    ast::Span {
        file: s.file,
        start: s.start,
        end: s.end,
    }
}

/// Checks expressions against one scope, collecting errors.
pub struct Exprs<'s> {
    scope: &'s Scope,
    errors: &'s mut Vec<CheckError>,
}

impl<'s> Exprs<'s> {
    pub fn new(scope: &'s Scope, errors: &'s mut Vec<CheckError>) -> Exprs<'s> {
        Exprs { scope, errors }
    }

    /// A value expression; an untyped null gets `expected`, or is an error without it.
    pub fn value(&mut self, e: &ast::Expr, expected: Option<DataType>) -> Option<ir::Expr> {
        let typed = self.check(e)?;
        self.settle(typed, expected)
    }

    /// A condition: must be bool (`what` names it in the error, e.g. "a `where` filter").
    pub fn condition(&mut self, e: &ast::Expr, what: &'static str) -> Option<ir::Expr> {
        let typed = self.check(e)?;
        self.expect_bool(typed, what)
    }

    fn settle(&mut self, typed: Typed, expected: Option<DataType>) -> Option<ir::Expr> {
        match (typed.known, expected) {
            (true, _) => Some(typed.expr),
            (false, Some(ty)) => {
                let mut expr = typed.expr;
                assign(&mut expr, ty);
                Some(expr)
            }
            (false, None) => self.fail(CheckError::UntypedNull {
                span: ast_span(typed.expr.span),
            }),
        }
    }

    fn expect_bool(&mut self, typed: Typed, what: &'static str) -> Option<ir::Expr> {
        if typed.known && typed.expr.ty != DataType::Bool {
            return self.fail(CheckError::NotBool {
                what,
                operand: typed.operand(),
            });
        }
        self.settle(typed, Some(DataType::Bool))
    }

    fn fail<T>(&mut self, error: CheckError) -> Option<T> {
        self.errors.push(error);
        None
    }

    #[recursive::recursive]
    fn check(&mut self, e: &ast::Expr) -> Option<Typed> {
        let sp = span(e.span);
        let known = |expr: ir::Expr| Some(Typed { expr, known: true });
        if let Some(reached) = self.reach(e) {
            return self.path_value(reached?, e.span);
        }
        match &e.kind {
            ast::ExprKind::Member { base, .. } => {
                // `a.b.c` whose `a` is no struct column.
                let mut root = base.as_ref();
                while let ast::ExprKind::Member { base, .. } = &root.kind {
                    root = base;
                }
                let names = self.scope.names.iter().map(|(n, _)| n.as_str());
                let (name, at) = match &root.kind {
                    ast::ExprKind::Field { qualifier, .. } => {
                        (qualifier.name.clone(), qualifier.span)
                    }
                    _ => (String::new(), root.span),
                };
                self.fail(CheckError::UnknownColumn {
                    suggestion: closest(&name, names),
                    name,
                    span: at,
                    source: self.scope.source.clone(),
                    declared_later: false,
                })
            }
            ast::ExprKind::Column(ident) => match self.scope.lookup(&ident.name) {
                Some(Binding::Typed { ty, nullable }) => known(ir::Expr {
                    kind: ExprKind::Column(ident.name.clone()),
                    ty,
                    nullable,
                    span: sp,
                }),
                Some(Binding::Poisoned) => None,
                None => {
                    let names = self.scope.names.iter().map(|(n, _)| n.as_str());
                    self.fail(CheckError::UnknownColumn {
                        name: ident.name.clone(),
                        span: ident.span,
                        source: self.scope.source.clone(),
                        suggestion: closest(&ident.name, names),
                        declared_later: self.scope.later.contains(&ident.name),
                    })
                }
            },
            ast::ExprKind::Field { qualifier, name } => {
                let written = format!("{}.{}", qualifier.name, name.name);
                let found = self.scope.qualified.iter().find(|(w, _, _)| *w == written);
                match found {
                    Some((_, column, Binding::Typed { ty, nullable })) => known(ir::Expr {
                        kind: ExprKind::Column(column.clone()),
                        ty: *ty,
                        nullable: *nullable,
                        span: sp,
                    }),
                    Some((_, _, Binding::Poisoned)) => None,
                    None => match &self.scope.view {
                        Some(view) if self.scope.requests.contains(&qualifier.name) => {
                            self.fail(CheckError::RequestInView {
                                request: qualifier.name.clone(),
                                field: name.name.clone(),
                                span: e.span,
                                view: view.clone(),
                            })
                        }
                        _ => self.fail(CheckError::UnknownQualifier {
                            name: qualifier.name.clone(),
                            span: qualifier.span,
                            suggestion: closest(
                                &qualifier.name,
                                self.scope.requests.iter().map(String::as_str),
                            ),
                        }),
                    },
                }
            }
            ast::ExprKind::Int(text) => known(literal(self.int(text, false, e.span)?, sp)),
            ast::ExprKind::Float(text) => match text.parse::<f64>() {
                // A literal that is not zero but rounds to zero underflowed: refused
                // like one that overflows, never silently zero.
                Ok(v) if v.is_finite() && (v != 0.0 || !has_nonzero_digit(text)) => {
                    known(literal(Literal::Float64(v), sp))
                }
                _ => self.fail(CheckError::NumberOutOfRange {
                    text: text.clone(),
                    span: e.span,
                    float: true,
                }),
            },
            ast::ExprKind::String(s) => known(literal(Literal::String(s.clone()), sp)),
            ast::ExprKind::Bool(b) => known(literal(Literal::Bool(*b), sp)),
            ast::ExprKind::Null => Some(Typed {
                expr: ir::Expr {
                    kind: ExprKind::Literal(Literal::Null),
                    ty: DataType::Bool,
                    nullable: true,
                    span: sp,
                },
                known: false,
            }),
            ast::ExprKind::Unary {
                op: UnaryOp::Neg,
                expr,
            } => {
                // `-9223372036854775808` only fits when the sign is part of the literal.
                if let ast::ExprKind::Int(text) = &expr.kind {
                    return known(literal(self.int(text, true, e.span)?, sp));
                }
                let inner = self.check(expr)?;
                if !inner.known {
                    return self.fail(CheckError::UntypedNull { span: expr.span });
                }
                if !inner.expr.ty.is_numeric() && !inner.expr.ty.is_decimal() {
                    return self.fail(CheckError::OperandType {
                        op: "-",
                        operand: inner.operand(),
                        expected: "a number",
                    });
                }
                let (ty, nullable) = (inner.expr.ty, inner.expr.nullable);
                let negated = ir::Expr {
                    kind: ExprKind::Neg(Box::new(inner.expr)),
                    ty,
                    nullable,
                    span: sp,
                };
                if let ExprKind::Neg(operand) = &negated.kind {
                    if const_int(operand).is_some() && const_int(&negated).is_none() {
                        return self.fail(CheckError::ConstantOverflow {
                            span: e.span,
                            op: "-",
                        });
                    }
                }
                known(negated)
            }
            ast::ExprKind::Unary {
                op: UnaryOp::Not,
                expr,
            } => {
                let inner = self.check(expr)?;
                let inner = self.expect_bool(inner, "the operand of `not`")?;
                let nullable = inner.nullable;
                known(ir::Expr {
                    kind: ExprKind::Not(Box::new(inner)),
                    ty: DataType::Bool,
                    nullable,
                    span: sp,
                })
            }
            ast::ExprKind::Binary { op, lhs, rhs } => {
                let (l, r) = (self.check(lhs), self.check(rhs));
                let (l, r) = (l?, r?);
                // A number written with a point beside a decimal is that decimal,
                // exactly (semantics.md, "Decimals").
                let (l_decimal, r_decimal) = (is_decimal_operand(&l), is_decimal_operand(&r));
                let l = self.exact_beside(lhs, l, r_decimal)?;
                let r = self.exact_beside(rhs, r, l_decimal)?;
                self.binary(convert_op(*op), l, r, sp)
                    .map(|expr| Typed { expr, known: true })
            }
            ast::ExprKind::IsNull { expr, negated } => {
                let inner = self.check(expr)?;
                // `null is null` is true whatever the null's type: any type will do.
                let inner = self.settle(inner, Some(DataType::Bool))?;
                known(ir::Expr {
                    kind: ExprKind::IsNull {
                        expr: Box::new(inner),
                        negated: *negated,
                    },
                    ty: DataType::Bool,
                    nullable: false,
                    span: sp,
                })
            }
            ast::ExprKind::InList {
                expr,
                list,
                negated,
            } => {
                let items: Vec<Option<Typed>> = std::iter::once(&**expr)
                    .chain(list)
                    .map(|x| self.check(x))
                    .collect();
                let items: Vec<Typed> = items.into_iter().collect::<Option<_>>()?;
                let items = self.exact_among(std::iter::once(&**expr).chain(list), items)?;
                let (mut items, ty) = self.unify(items, "the values of `in`")?;
                if ty.is_none() {
                    // Only nulls: the result is null whatever their type.
                    items.iter_mut().for_each(|i| assign(i, DataType::Bool));
                }
                let head = items.remove(0);
                let nullable = head.nullable || items.iter().any(|i| i.nullable);
                known(ir::Expr {
                    kind: ExprKind::InList {
                        expr: Box::new(head),
                        list: items,
                        negated: *negated,
                    },
                    ty: DataType::Bool,
                    nullable,
                    span: sp,
                })
            }
            ast::ExprKind::Call { func, args } => self.call(func, args, sp),
            ast::ExprKind::Case {
                branches,
                otherwise,
            } => {
                let mut conditions = Vec::new();
                let mut values = Vec::new();
                for (c, v) in branches {
                    conditions.push(self.condition(c, "a `case` condition"));
                    values.push(self.check(v));
                }
                if let Some(o) = otherwise {
                    values.push(self.check(o));
                }
                let conditions: Vec<ir::Expr> = conditions.into_iter().collect::<Option<_>>()?;
                let values: Vec<Typed> = values.into_iter().collect::<Option<_>>()?;
                let written = branches.iter().map(|(_, v)| v).chain(otherwise.as_deref());
                let values = self.exact_among(written, values)?;
                let (mut values, ty) = self.unify(values, "the branches of `case`")?;
                let otherwise = otherwise
                    .as_ref()
                    .map(|_| Box::new(values.remove(values.len() - 1)));
                let nullable = values.iter().any(|v| v.nullable)
                    || otherwise.as_ref().is_none_or(|o| o.nullable);
                let branches = conditions.into_iter().zip(values).collect();
                Some(case(branches, otherwise, ty, nullable, sp))
            }
        }
    }

    fn int(&mut self, digits: &str, negative: bool, at: ast::Span) -> Option<Literal> {
        let text = if negative {
            format!("-{digits}")
        } else {
            digits.to_string()
        };
        match text.parse::<i64>() {
            Ok(v) => Some(Literal::Int64(v)),
            Err(_) => self.fail(CheckError::NumberOutOfRange {
                text,
                span: at,
                float: false,
            }),
        }
    }

    /// `typed` (checked from `written`) as an exact decimal literal when `other` is a
    /// decimal and `written` is a number with a point and no exponent (`12.50`,
    /// `-0.5`): `decimal(p, s)` with the scale written (`12.50` is `decimal(4, 2)`);
    /// anything else unchanged. More than 38 digits is an error.
    fn exact_beside(&mut self, written: &ast::Expr, typed: Typed, beside: bool) -> Option<Typed> {
        if !beside || typed.expr.ty != DataType::Float64 {
            return Some(typed);
        }
        let (negative, text) = match &written.kind {
            ast::ExprKind::Float(text) => (false, text),
            ast::ExprKind::Unary {
                op: ast::UnaryOp::Neg,
                expr,
            } => match &expr.kind {
                ast::ExprKind::Float(text) => (true, text),
                _ => return Some(typed),
            },
            _ => return Some(typed),
        };
        let Some((int, frac)) = text.split_once('.') else {
            return Some(typed);
        };
        if text.contains(['e', 'E']) {
            return Some(typed);
        }
        let scale = frac.len();
        let digits = int.trim_start_matches('0').len() + scale;
        let ty = match ir::decimal_type(digits.max(1) as u64, scale as u64) {
            Some(ty) => ty,
            None => {
                return self.fail(CheckError::DecimalDigits {
                    what: "this number beside a decimal",
                    digits: digits.min(usize::from(u16::MAX)) as u16,
                    span: written.span,
                })
            }
        };
        let (precision, scale) = ty.decimal_parts()?;
        let unscaled = featc_runtime::row::decimal::parse_decimal(text, precision, scale).ok()?;
        Some(Typed {
            expr: ir::Expr {
                kind: ExprKind::Literal(Literal::Decimal(if negative {
                    -unscaled
                } else {
                    unscaled
                })),
                ty,
                nullable: false,
                span: typed.expr.span,
            },
            known: true,
        })
    }

    /// Values that take one type (`coalesce`, `if`, `case`, `in`, `least`,
    /// `greatest`, `nullif`): when one is a decimal, each number written with a point
    /// among them is that decimal exactly, as beside an operator (`exact_beside`), so
    /// `coalesce(price, 0.5)` is exact and not a float64 mixed with a decimal.
    fn exact_among<'a>(
        &mut self,
        written: impl IntoIterator<Item = &'a ast::Expr>,
        items: Vec<Typed>,
    ) -> Option<Vec<Typed>> {
        if !items.iter().any(is_decimal_operand) {
            return Some(items);
        }
        let exact: Vec<Option<Typed>> = written
            .into_iter()
            .zip(items)
            .map(|(w, t)| self.exact_beside(w, t, true))
            .collect();
        exact.into_iter().collect()
    }

    fn binary(&mut self, op: BinaryOp, l: Typed, r: Typed, sp: ir::SourceSpan) -> Option<ir::Expr> {
        // A list is an operand of the list functions only (see `lists`).
        if let Some(list) = [&l, &r].into_iter().find(|t| is_list(t)) {
            return self.fail(CheckError::OperandType {
                op: op.symbol(),
                operand: list.operand(),
                expected: "a scalar",
            });
        }
        let make = |lhs: ir::Expr, rhs: ir::Expr, ty: DataType, nullable: bool| ir::Expr {
            kind: ExprKind::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            ty,
            nullable,
            span: sp,
        };
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let what = if op == BinaryOp::And {
                    "an operand of `and`"
                } else {
                    "an operand of `or`"
                };
                let (l, r) = (self.expect_bool(l, what), self.expect_bool(r, what));
                let (l, r) = (l?, r?);
                let nullable = l.nullable || r.nullable;
                Some(make(l, r, DataType::Bool, nullable))
            }
            _ if op.is_comparison() => {
                let (l, r, _) = self.promote_pair(op, l, r)?;
                let nullable = l.nullable || r.nullable;
                Some(make(l, r, DataType::Bool, nullable))
            }
            _ if is_decimal_operand(&l) || is_decimal_operand(&r) => self.decimal(op, l, r, sp),
            _ => {
                let (l, r, ty) = self.promote_pair(op, l, r)?;
                if !ty.is_numeric() {
                    return self.fail(CheckError::OperandTypes {
                        op: op.symbol(),
                        lhs: Operand {
                            span: ast_span(l.span),
                            ty: l.ty,
                        },
                        rhs: Operand {
                            span: ast_span(r.span),
                            ty: r.ty,
                        },
                    });
                }
                let constants = (const_int(&l), const_int(&r));
                let made = match op {
                    BinaryOp::Div => {
                        return Some(make(to_float(l), to_float(r), DataType::Float64, true))
                    }
                    BinaryOp::Mod => make(l, r, ty, true),
                    _ => {
                        let nullable = l.nullable || r.nullable;
                        make(l, r, ty, nullable)
                    }
                };
                let zero_divisor = op == BinaryOp::Mod && constants.1 == Some(0);
                let overflows = matches!(constants, (Some(_), Some(_))) && !zero_divisor;
                if overflows && const_int(&made).is_none() {
                    return self.fail(CheckError::ConstantOverflow {
                        span: ast_span(sp),
                        op: op.symbol(),
                    });
                }
                Some(made)
            }
        }
    }

    /// Brings two operands to one type: an untyped null takes the other's type, an
    /// int64 next to a float64 is cast.
    fn promote_pair(
        &mut self,
        op: BinaryOp,
        l: Typed,
        r: Typed,
    ) -> Option<(ir::Expr, ir::Expr, DataType)> {
        match (l.known, r.known) {
            // `null = null` is null whatever the operands' type: any type will do.
            (false, false) if op.is_comparison() => {
                let ty = DataType::Bool;
                Some((self.settle(l, Some(ty))?, self.settle(r, Some(ty))?, ty))
            }
            (false, false) => self.fail(CheckError::UntypedNull {
                span: ast_span(l.expr.span),
            }),
            (true, false) => {
                let ty = l.expr.ty;
                Some((l.expr, self.settle(r, Some(ty))?, ty))
            }
            (false, true) => {
                let ty = r.expr.ty;
                Some((self.settle(l, Some(ty))?, r.expr, ty))
            }
            (true, true) => {
                let (lt, rt) = (l.expr.ty, r.expr.ty);
                if lt == rt {
                    Some((l.expr, r.expr, lt))
                } else if op.is_comparison()
                    && (lt.is_decimal() || rt.is_decimal())
                    && lt.decimal_parts().is_some()
                    && rt.decimal_parts().is_some()
                {
                    // Decimals of any types (and int64s) compare exactly as they are.
                    Some((l.expr, r.expr, lt))
                } else if lt.is_numeric() && rt.is_numeric() {
                    Some((to_float(l.expr), to_float(r.expr), DataType::Float64))
                } else {
                    self.fail(CheckError::OperandTypes {
                        op: op.symbol(),
                        lhs: l.operand(),
                        rhs: r.operand(),
                    })
                }
            }
        }
    }

    /// `+ - * / %` with a decimal operand (semantics.md "Decimals"): exact `+ - *` of
    /// decimals and int64s, `/` on the operands' nearest float64s; anything else is
    /// a type mismatch.
    fn decimal(
        &mut self,
        op: BinaryOp,
        l: Typed,
        r: Typed,
        sp: ir::SourceSpan,
    ) -> Option<ir::Expr> {
        // An untyped null takes the other side's type; typed sides stay as they are.
        let (l, r) = match (l.known, r.known) {
            (true, true) => (l.expr, r.expr),
            _ => {
                let (l, r, _) = self.promote_pair(op, l, r)?;
                (l, r)
            }
        };
        let mismatch = |l: &ir::Expr, r: &ir::Expr| CheckError::OperandTypes {
            op: op.symbol(),
            lhs: Operand {
                span: ast_span(l.span),
                ty: l.ty,
            },
            rhs: Operand {
                span: ast_span(r.span),
                ty: r.ty,
            },
        };
        if l.ty.decimal_parts().is_none() || r.ty.decimal_parts().is_none() {
            return self.fail(mismatch(&l, &r));
        }
        let nullable = l.nullable || r.nullable;
        let ty = match op {
            BinaryOp::Div => {
                let (l, r) = (to_float_any(l), to_float_any(r));
                return Some(binary_expr(op, l, r, DataType::Float64, true, sp));
            }
            BinaryOp::Add | BinaryOp::Sub => ir::sum_type(l.ty, r.ty),
            BinaryOp::Mul => match ir::product_type(l.ty, r.ty) {
                Ok(ty) => ty,
                Err(digits) => {
                    return self.fail(CheckError::DecimalDigits {
                        what: "the scale of this product",
                        digits,
                        span: ast_span(sp),
                    })
                }
            },
            _ => None,
        };
        match ty {
            Some(ty) => Some(binary_expr(op, l, r, ty, nullable, sp)),
            None => self.fail(mismatch(&l, &r)),
        }
    }

    /// Brings values that must share a type to it (see the module rules). Returns the
    /// values and their type, `None` as the type when every value is an untyped null
    /// (they are returned untouched, for the context to type).
    fn unify(
        &mut self,
        items: Vec<Typed>,
        what: &'static str,
    ) -> Option<(Vec<ir::Expr>, Option<DataType>)> {
        if let Some(list) = items.iter().find(|t| is_list(t)) {
            return self.fail(CheckError::OperandType {
                op: what,
                operand: list.operand(),
                expected: "scalars",
            });
        }
        let mut first: Option<Operand> = None;
        let mut target: Option<DataType> = None;
        for item in items.iter().filter(|i| i.known) {
            let this = item.operand();
            match (first, target) {
                (None, _) => {
                    first = Some(this);
                    target = Some(this.ty);
                }
                (Some(f), Some(t)) if t == this.ty => first = Some(f),
                // Decimals and int64s: their common type is decided below.
                (Some(f), Some(t))
                    if (t.is_decimal() || this.ty.is_decimal())
                        && t.decimal_parts().is_some()
                        && this.ty.decimal_parts().is_some() =>
                {
                    first = Some(f)
                }
                (Some(_), Some(t)) if t.is_numeric() && this.ty.is_numeric() => {
                    target = Some(DataType::Float64)
                }
                (Some(f), _) => {
                    return self.fail(CheckError::BranchTypes {
                        what,
                        first: f,
                        other: this,
                    })
                }
            }
        }
        // Decimals (and int64s with them) unify to the widest scale and integer part.
        let known: Vec<DataType> = items
            .iter()
            .filter(|i| i.known)
            .map(|i| i.expr.ty)
            .collect();
        match ir::unify_type(&known) {
            Ok(Some(ty)) => target = Some(ty),
            Ok(None) => {}
            Err(digits) => {
                let span = items.first().map(|i| ast_span(i.expr.span))?;
                return self.fail(CheckError::DecimalDigits { what, digits, span });
            }
        }
        let Some(ty) = target else {
            return Some((items.into_iter().map(|i| i.expr).collect(), None));
        };
        if ty.is_decimal() {
            let exprs = items
                .into_iter()
                .map(|mut i| {
                    if !i.known {
                        assign(&mut i.expr, ty);
                    }
                    cast_to(i.expr, ty)
                })
                .collect();
            return Some((exprs, Some(ty)));
        }
        let exprs = items
            .into_iter()
            .map(|mut i| {
                if !i.known {
                    assign(&mut i.expr, ty);
                }
                if ty == DataType::Float64 {
                    to_float(i.expr)
                } else {
                    i.expr
                }
            })
            .collect();
        Some((exprs, Some(ty)))
    }

    fn call(&mut self, func: &ast::Ident, args: &[ast::Expr], sp: ir::SourceSpan) -> Option<Typed> {
        if let Some(access) = self.map_access(func, args, ast_span(sp)) {
            return access;
        }
        let checked: Vec<Option<Typed>> = match func.name.as_str() {
            "if" if args.len() == 3 => Vec::new(),
            _ => args.iter().map(|a| self.check(a)).collect(),
        };
        match func.name.as_str() {
            // The name of the event's source: a column every path supplies (see
            // `ir::SOURCE_NAME_COLUMN`); only a view's rows have a source.
            "source" if self.scope.view.is_some() => {
                if !args.is_empty() {
                    return self.fail(arity(func, "0", args.len()));
                }
                Some(Typed {
                    expr: ir::Expr {
                        kind: ExprKind::Column(ir::SOURCE_NAME_COLUMN.to_string()),
                        ty: DataType::String,
                        nullable: false,
                        span: sp,
                    },
                    known: true,
                })
            }
            // The explicit conversion to float64: a decimal to its nearest float64
            // (an int64 too, as elsewhere; a float64 stays as it is).
            "float64" => {
                let [arg] = checked.as_slice() else {
                    return self.fail(arity(func, "1", args.len()));
                };
                let arg = arg.as_ref()?;
                if !arg.known {
                    return self.fail(CheckError::UntypedNull {
                        span: ast_span(arg.expr.span),
                    });
                }
                if !(arg.expr.ty.is_numeric() || arg.expr.ty.is_decimal()) {
                    return self.fail(CheckError::OperandType {
                        op: "float64",
                        operand: arg.operand(),
                        expected: "a number",
                    });
                }
                Some(Typed {
                    expr: to_float_any(arg.expr.clone()),
                    known: true,
                })
            }
            "coalesce" => {
                if args.is_empty() {
                    return self.fail(arity(func, "at least 1", 0));
                }
                let values: Vec<Typed> = checked.into_iter().collect::<Option<_>>()?;
                let values = self.exact_among(args, values)?;
                let (values, ty) = self.unify(values, "the arguments of `coalesce`")?;
                let nullable = values.iter().all(|v| v.nullable);
                Some(Typed {
                    expr: ir::Expr {
                        kind: ExprKind::Coalesce(values),
                        ty: ty.unwrap_or(DataType::Bool),
                        nullable,
                        span: sp,
                    },
                    known: ty.is_some(),
                })
            }
            "if" => {
                if args.len() != 3 {
                    return self.fail(arity(func, "3", args.len()));
                }
                let condition = self.condition(&args[0], "the condition of `if`");
                let (then, otherwise) = (self.check(&args[1]), self.check(&args[2]));
                let (condition, then, otherwise) = (condition?, then?, otherwise?);
                let values = self.exact_among(&args[1..], vec![then, otherwise])?;
                let (mut values, ty) = self.unify(values, "the branches of `if`")?;
                let otherwise = values.pop().map(Box::new);
                let then = values.pop()?;
                let nullable = then.nullable || otherwise.as_ref().is_some_and(|o| o.nullable);
                Some(case(vec![(condition, then)], otherwise, ty, nullable, sp))
            }
            name => {
                if let Some(f) = Function::by_name(name) {
                    return self.function(f, func, args, checked, sp);
                }
                let is_aggregation = super::aggs::by_name(name).is_some();
                let suggestion = if is_aggregation {
                    None
                } else {
                    closest(name, function_names())
                };
                self.fail(CheckError::UnknownFunction {
                    name: name.to_string(),
                    span: func.span,
                    suggestion,
                    is_aggregation,
                })
            }
        }
    }
}

/// Whether `name` is a row function (`feature f = coalesce(a, b)` is then a derived
/// feature, not an aggregation).
pub fn is_row_function(name: &str) -> bool {
    matches!(name, "coalesce" | "if" | "float64") || Function::by_name(name).is_some()
}

impl Exprs<'_> {
    /// A call of a row function, its arguments already checked (see the module rules).
    fn function(
        &mut self,
        f: Function,
        func: &ast::Ident,
        written: &[ast::Expr],
        checked: Vec<Option<Typed>>,
        sp: ir::SourceSpan,
    ) -> Option<Typed> {
        if !f.arity().accepts(checked.len()) {
            return self.fail(arity(func, f.arity().describe(), checked.len()));
        }
        let values: Vec<Typed> = checked.into_iter().collect::<Option<_>>()?;
        let (args, known) = match f {
            Function::Size
            | Function::ElementAt
            | Function::Dot
            | Function::Cosine
            | Function::L2Distance => (self.list_arguments(f, values)?, true),
            Function::Contains if values.first().is_some_and(is_list) => {
                (self.list_arguments(f, values)?, true)
            }
            Function::Least | Function::Greatest | Function::Nullif => {
                let what = match f {
                    Function::Least => "the arguments of `least`",
                    Function::Greatest => "the arguments of `greatest`",
                    _ => "the arguments of `nullif`",
                };
                let values = self.exact_among(written, values)?;
                // Only nulls: the result's type is the context's, like `coalesce`'s.
                let (args, ty) = self.unify(values, what)?;
                (args, ty.is_some())
            }
            _ => {
                let args: Vec<Option<ir::Expr>> = values
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| self.parameter(f, i, v))
                    .collect();
                (args.into_iter().collect::<Option<Vec<_>>>()?, true)
            }
        };
        let types: Vec<DataType> = args.iter().map(|a| a.ty).collect();
        // Every argument was brought to the function's types above, so this error is
        // only a guard: a call is never dropped without one.
        let Some(ty) = f.result_type(&types) else {
            let first = args.first()?;
            return self.fail(CheckError::OperandType {
                op: f.name(),
                operand: Operand {
                    span: ast_span(first.span),
                    ty: first.ty,
                },
                expected: "other arguments",
            });
        };
        // A length that is a literal >= 0 cannot make `substr` null.
        let fixed_length = matches!(
            args.get(2).map(|a| &a.kind),
            Some(ExprKind::Literal(Literal::Int64(n))) if *n >= 0
        );
        let nullable = match f {
            Function::Least | Function::Greatest => args.iter().all(|a| a.nullable),
            Function::Substr if fixed_length => args.iter().any(|a| a.nullable),
            // `contains` of a list is null when an item is null and none matches.
            Function::Contains if args.first().is_some_and(|a| a.ty.list().is_some()) => true,
            _ => f.null_on_values(args.len()) || args.iter().any(|a| a.nullable),
        };
        let expr = ir::Expr {
            kind: ExprKind::Call { func: f, args },
            ty,
            nullable,
            span: sp,
        };
        if let ExprKind::Call { args, .. } = &expr.kind {
            let constant = args.iter().all(|a| const_int(a).is_some());
            if f == Function::Abs && constant && const_int(&expr).is_none() {
                return self.fail(CheckError::ConstantOverflow {
                    span: ast_span(sp),
                    op: "abs",
                });
            }
        }
        Some(Typed { expr, known })
    }

    /// Argument `i` of `f` brought to the parameter's type: a number (kept as it is
    /// for `abs`, `floor`, `ceil`, `round`; cast to float64 for the others), a string,
    /// or an int64 (`substr`'s positions).
    fn parameter(&mut self, f: Function, i: usize, v: Typed) -> Option<ir::Expr> {
        use Function::*;
        if f == Abs && v.known && v.expr.ty.is_decimal() {
            return Some(v.expr);
        }
        let (want, expected) = match (f, i) {
            (Abs | Floor | Ceil | Round, _) => (None, "a number"),
            (Sqrt | Ln | Exp | Pow | Haversine, _) => (Some(DataType::Float64), "a number"),
            (Substr, 1 | 2) => (Some(DataType::Int64), "an int64 position and length"),
            _ => (Some(DataType::String), "a string"),
        };
        if !v.known {
            return match want {
                Some(ty) => self.settle(v, Some(ty)),
                None => self.fail(CheckError::UntypedNull {
                    span: ast_span(v.expr.span),
                }),
            };
        }
        let ty = v.expr.ty;
        let fits = match want {
            None | Some(DataType::Float64) => ty.is_numeric(),
            Some(t) => ty == t,
        };
        if !fits {
            return self.fail(CheckError::OperandType {
                op: f.name(),
                operand: v.operand(),
                expected,
            });
        }
        Some(match want {
            Some(DataType::Float64) => to_float(v.expr),
            _ => v.expr,
        })
    }
}

/// Every function an expression may call, for suggestions and messages.
pub fn function_names() -> Vec<&'static str> {
    let mut names = vec!["coalesce", "if", "float64"];
    names.extend(Function::ALL.iter().map(|f| f.name()));
    names
}

fn arity(func: &ast::Ident, expected: &'static str, found: usize) -> CheckError {
    CheckError::Arity {
        func: func.name.clone(),
        span: func.span,
        expected,
        found,
    }
}

fn case(
    branches: Vec<(ir::Expr, ir::Expr)>,
    otherwise: Option<Box<ir::Expr>>,
    ty: Option<DataType>,
    nullable: bool,
    sp: ir::SourceSpan,
) -> Typed {
    Typed {
        expr: ir::Expr {
            kind: ExprKind::Case {
                branches,
                otherwise,
            },
            ty: ty.unwrap_or(DataType::Bool),
            nullable,
            span: sp,
        },
        known: ty.is_some(),
    }
}

fn literal(value: Literal, sp: ir::SourceSpan) -> ir::Expr {
    let ty = match &value {
        Literal::Int64(_) => DataType::Int64,
        Literal::Float64(_) => DataType::Float64,
        Literal::String(_) => DataType::String,
        Literal::Bool(_) | Literal::Null => DataType::Bool,
        // Made with the type it was written as (`exact_beside`), never here.
        Literal::Decimal(_) => DataType::Decimal {
            precision: 38,
            scale: 0,
        },
    };
    ir::Expr {
        kind: ExprKind::Literal(value),
        ty,
        nullable: false,
        span: sp,
    }
}

/// Casts an int64 expression to float64; other expressions are returned as they are.
pub fn to_float(e: ir::Expr) -> ir::Expr {
    if e.ty != DataType::Int64 {
        return e;
    }
    let (nullable, span) = (e.nullable, e.span);
    ir::Expr {
        kind: ExprKind::Cast(Box::new(e)),
        ty: DataType::Float64,
        nullable,
        span,
    }
}

/// Converts an int64 or a decimal to float64 (the nearest, semantics.md
/// "Decimals"); other expressions are returned as they are.
pub fn to_float_any(e: ir::Expr) -> ir::Expr {
    if e.ty.is_decimal() {
        return cast_to(e, DataType::Float64);
    }
    to_float(e)
}

/// `e` converted to `ty` (a decimal of a wider type, an int64 to a decimal, a
/// number to float64) unless it has that type already.
fn cast_to(e: ir::Expr, ty: DataType) -> ir::Expr {
    if e.ty == ty {
        return e;
    }
    let (nullable, span) = (e.nullable, e.span);
    ir::Expr {
        kind: ExprKind::Cast(Box::new(e)),
        ty,
        nullable,
        span,
    }
}

/// Whether an operand is a decimal (an untyped null is not).
fn is_decimal_operand(t: &Typed) -> bool {
    t.known && t.expr.ty.is_decimal()
}

fn binary_expr(
    op: BinaryOp,
    lhs: ir::Expr,
    rhs: ir::Expr,
    ty: DataType,
    nullable: bool,
    span: ir::SourceSpan,
) -> ir::Expr {
    ir::Expr {
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        ty,
        nullable,
        span,
    }
}

/// Gives an untyped null tree (nulls, and `coalesce`/`case` values made of them) a type.
fn assign(e: &mut ir::Expr, ty: DataType) {
    e.ty = ty;
    match &mut e.kind {
        ExprKind::Coalesce(values)
        | ExprKind::Call {
            func: Function::Least | Function::Greatest | Function::Nullif,
            args: values,
        } => values.iter_mut().for_each(|v| assign(v, ty)),
        ExprKind::Case {
            branches,
            otherwise,
        } => {
            branches.iter_mut().for_each(|(_, v)| assign(v, ty));
            if let Some(o) = otherwise {
                assign(o, ty);
            }
        }
        _ => {}
    }
}

fn convert_op(op: ast::BinaryOp) -> BinaryOp {
    match op {
        ast::BinaryOp::Or => BinaryOp::Or,
        ast::BinaryOp::And => BinaryOp::And,
        ast::BinaryOp::Eq => BinaryOp::Eq,
        ast::BinaryOp::NotEq => BinaryOp::NotEq,
        ast::BinaryOp::Lt => BinaryOp::Lt,
        ast::BinaryOp::LtEq => BinaryOp::LtEq,
        ast::BinaryOp::Gt => BinaryOp::Gt,
        ast::BinaryOp::GtEq => BinaryOp::GtEq,
        ast::BinaryOp::Add => BinaryOp::Add,
        ast::BinaryOp::Sub => BinaryOp::Sub,
        ast::BinaryOp::Mul => BinaryOp::Mul,
        ast::BinaryOp::Div => BinaryOp::Div,
        ast::BinaryOp::Mod => BinaryOp::Mod,
    }
}

/// The value of an int64 expression made of integer literals only; `None` when it
/// reads a column, is null, overflows (reported where it was built) or is null by
/// definition (`x % 0`).
fn const_int(e: &ir::Expr) -> Option<i64> {
    if e.ty != DataType::Int64 {
        return None;
    }
    match &e.kind {
        ExprKind::Literal(Literal::Int64(v)) => Some(*v),
        ExprKind::Neg(inner) => const_int(inner)?.checked_neg(),
        ExprKind::Call { func, args } => {
            let values = args.iter().map(const_int).collect::<Option<Vec<_>>>()?;
            match func {
                Function::Abs => values.first()?.checked_abs(),
                Function::Floor | Function::Ceil | Function::Round => values.first().copied(),
                Function::Least => values.into_iter().min(),
                Function::Greatest => values.into_iter().max(),
                _ => None,
            }
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let (a, b) = (const_int(lhs)?, const_int(rhs)?);
            match op {
                BinaryOp::Add => a.checked_add(b),
                BinaryOp::Sub => a.checked_sub(b),
                BinaryOp::Mul => a.checked_mul(b),
                BinaryOp::Mod if b != 0 => a.checked_rem(b),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a float literal's mantissa (before any exponent) has a digit other than 0.
fn has_nonzero_digit(text: &str) -> bool {
    text.chars()
        .take_while(|c| !matches!(c, 'e' | 'E'))
        .any(|c| matches!(c, '1'..='9'))
}
