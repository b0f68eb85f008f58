//! Expressions: pest yields a flat operand/operator sequence and the Pratt parser here
//! applies precedence and associativity. A chain of `and`s (or of `or`s) is built as a
//! balanced tree: both are associative, so the tree's shape does not change a value,
//! and a flat chain of thousands of terms (a generated filter) stays a shallow tree
//! that every later pass can walk recursively.

use std::sync::OnceLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use crate::ast::*;
use crate::build::Ctx;
use crate::errors;
use crate::rules::Rule;
use crate::scan::MAX_NESTING;

/// Lowest precedence first, as the language reference lists it.
fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::prefix(Rule::op_not))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_neq, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left)
                | Op::postfix(Rule::is_null)
                | Op::postfix(Rule::is_not_null)
                | Op::postfix(Rule::in_list)
                | Op::postfix(Rule::not_in_list))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_mod, Assoc::Left))
            .op(Op::prefix(Rule::op_neg))
            .op(Op::postfix(Rule::index))
    })
}

fn binary_op(rule: Rule) -> Option<BinaryOp> {
    Some(match rule {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_neq => BinaryOp::NotEq,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_le => BinaryOp::LtEq,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_ge => BinaryOp::GtEq,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        Rule::op_mod => BinaryOp::Mod,
        _ => return None,
    })
}

fn is_operand(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::case_expr
            | Rule::call
            | Rule::float
            | Rule::int
            | Rule::string
            | Rule::lit_true
            | Rule::lit_false
            | Rule::lit_null
            | Rule::column
            | Rule::paren
    )
}

type Built = Result<Expr, ParseError>;

/// An upper bound of the depth of the tree this level's operators build (operands
/// count for nothing here: their own levels are counted when they are built), and the
/// longest run of operators other than `and`/`or`. The level's `or`s split it into
/// terms, each term's `and`s into factors; the balanced chains add their logarithmic
/// depth, every other operator of a factor adds one.
fn level_depth(pair: Pair<'_, Rule>) -> (usize, usize) {
    let (mut ors, mut ands, mut ops) = (0usize, 0usize, 0usize);
    let (mut deepest_term, mut deepest_factor, mut longest) = (0usize, 0usize, 0usize);
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::op_or => {
                deepest_factor = deepest_factor.max(ops);
                deepest_term = deepest_term.max(balanced_depth(ands) + deepest_factor);
                longest = longest.max(ops);
                (ors, ands, ops, deepest_factor) = (ors + 1, 0, 0, 0);
            }
            Rule::op_and => {
                deepest_factor = deepest_factor.max(ops);
                longest = longest.max(ops);
                (ands, ops) = (ands + 1, 0);
            }
            rule if !is_operand(rule) => ops += 1,
            _ => {}
        }
    }
    deepest_factor = deepest_factor.max(ops);
    deepest_term = deepest_term.max(balanced_depth(ands) + deepest_factor);
    (balanced_depth(ors) + deepest_term, longest.max(ops))
}

/// The depth a balanced tree of `operators + 1` terms adds: `ceil(log2(operators + 1))`.
fn balanced_depth(operators: usize) -> usize {
    (usize::BITS - operators.leading_zeros()) as usize
}

/// `e` with every chain of `and`s (and of `or`s) that the Pratt parser built as a
/// left spine rebuilt as a balanced tree of the same terms in the same order. The
/// spine is taken apart in a loop (never recursively, however long it is); the
/// recursion into terms and other operators is bounded by `expr_at`'s depth check.
fn balance(e: Expr) -> Expr {
    match e.kind {
        ExprKind::Binary { op, lhs, rhs } if matches!(op, BinaryOp::And | BinaryOp::Or) => {
            let mut terms = vec![*rhs];
            let mut rest = *lhs;
            loop {
                match rest.kind {
                    ExprKind::Binary {
                        op: inner,
                        lhs,
                        rhs,
                    } if inner == op => {
                        terms.push(*rhs);
                        rest = *lhs;
                    }
                    kind => {
                        terms.push(Expr {
                            kind,
                            span: rest.span,
                        });
                        break;
                    }
                }
            }
            terms.reverse();
            let terms: Vec<Expr> = terms.into_iter().map(balance).collect();
            join_balanced(op, terms).unwrap_or(Expr {
                kind: ExprKind::Null,
                span: e.span,
            })
        }
        ExprKind::Binary { op, lhs, rhs } => Expr {
            kind: ExprKind::Binary {
                op,
                lhs: Box::new(balance(*lhs)),
                rhs: Box::new(balance(*rhs)),
            },
            span: e.span,
        },
        ExprKind::Unary { op, expr } => Expr {
            kind: ExprKind::Unary {
                op,
                expr: Box::new(balance(*expr)),
            },
            span: e.span,
        },
        ExprKind::IsNull { expr, negated } => Expr {
            kind: ExprKind::IsNull {
                expr: Box::new(balance(*expr)),
                negated,
            },
            span: e.span,
        },
        ExprKind::InList {
            expr,
            list,
            negated,
        } => Expr {
            kind: ExprKind::InList {
                expr: Box::new(balance(*expr)),
                list,
                negated,
            },
            span: e.span,
        },
        // Primaries were balanced when their own text was built.
        kind => Expr { kind, span: e.span },
    }
}

/// `terms` joined by `op` as a balanced tree, in order (`None` for no term). The
/// left half takes the middle term, so up to three terms read as the left-associative
/// chain they were written as.
fn join_balanced(op: BinaryOp, mut terms: Vec<Expr>) -> Option<Expr> {
    if terms.len() <= 1 {
        return terms.pop();
    }
    let right = terms.split_off(terms.len().div_ceil(2));
    let (lhs, rhs) = (join_balanced(op, terms)?, join_balanced(op, right)?);
    Some(Expr {
        span: lhs.span.to(rhs.span),
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
    })
}

impl Ctx<'_> {
    /// Builds an `expr` pair.
    pub(crate) fn expr(&self, pair: Pair<'_, Rule>) -> Built {
        self.expr_at(pair, 0)
    }

    /// `depth` bounds the depth of the tree (and so the recursion here, in the Pratt
    /// parser and in every later pass over the tree): each nested level counts, each
    /// operator of this level counts, but a chain of `and`s or `or`s counts for the
    /// depth of its balanced tree, so no input can exhaust the stack and a long flat
    /// `or` is not refused as nesting.
    fn expr_at(&self, pair: Pair<'_, Rule>, depth: usize) -> Built {
        let (tree, longest_chain) = level_depth(pair.clone());
        let depth = depth + 1 + tree;
        if depth > 2 * MAX_NESTING {
            let start = self.span(&pair).start as usize;
            let expected = if longest_chain > MAX_NESTING {
                errors::chain_expectation()
            } else {
                errors::nesting_expectation()
            };
            return Err(errors::at_token(
                self.file,
                self.text,
                start,
                vec![expected],
            ));
        }
        let built = self.pratt_at(pair, depth)?;
        Ok(balance(built))
    }

    fn pratt_at(&self, pair: Pair<'_, Rule>, depth: usize) -> Built {
        pratt()
            .map_primary(move |p| self.primary(p, depth))
            .map_prefix(move |op, rhs| {
                let rhs = rhs?;
                let op_span = self.span(&op);
                let op = if op.as_rule() == Rule::op_not {
                    UnaryOp::Not
                } else {
                    UnaryOp::Neg
                };
                Ok(Expr {
                    span: op_span.to(rhs.span),
                    kind: ExprKind::Unary {
                        op,
                        expr: Box::new(rhs),
                    },
                })
            })
            .map_postfix(move |lhs, op| {
                let lhs = lhs?;
                let span = lhs.span.to(self.span(&op));
                let expr = Box::new(lhs);
                let kind = match op.as_rule() {
                    // `xs[i]` is `element_at(xs, i)`: one function, one meaning.
                    Rule::index => {
                        let func = Ident {
                            name: "element_at".to_string(),
                            span: self.span(&op),
                        };
                        let at = op
                            .into_inner()
                            .find(|p| p.as_rule() == Rule::expr)
                            .ok_or_else(|| self.malformed(span.start as usize))?;
                        ExprKind::Call {
                            func,
                            args: vec![*expr, self.expr_at(at, depth)?],
                        }
                    }
                    Rule::is_null => ExprKind::IsNull {
                        expr,
                        negated: false,
                    },
                    Rule::is_not_null => ExprKind::IsNull {
                        expr,
                        negated: true,
                    },
                    rule => {
                        let list = op
                            .into_inner()
                            .filter(|p| p.as_rule() == Rule::expr)
                            .map(|p| self.expr_at(p, depth))
                            .collect::<Result<Vec<_>, _>>()?;
                        ExprKind::InList {
                            expr,
                            list,
                            negated: rule == Rule::not_in_list,
                        }
                    }
                };
                Ok(Expr { kind, span })
            })
            .map_infix(move |lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let op = binary_op(op.as_rule())
                    .ok_or_else(|| self.malformed(self.span(&op).start as usize))?;
                Ok(Expr {
                    span: lhs.span.to(rhs.span),
                    kind: ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                })
            })
            .parse(pair.into_inner())
    }

    fn primary(&self, pair: Pair<'_, Rule>, depth: usize) -> Built {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::int => ExprKind::Int(pair.as_str().to_string()),
            Rule::float => ExprKind::Float(pair.as_str().to_string()),
            Rule::string => ExprKind::String(self.string(&pair).value),
            Rule::lit_true => ExprKind::Bool(true),
            Rule::lit_false => ExprKind::Bool(false),
            Rule::lit_null => ExprKind::Null,
            Rule::column => {
                let mut names = pair
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::ident)
                    .map(|p| self.ident(&p));
                let kind = match (names.next(), names.next()) {
                    (Some(qualifier), Some(name)) => ExprKind::Field { qualifier, name },
                    (Some(name), None) => ExprKind::Column(name),
                    _ => return Err(self.malformed(span.start as usize)),
                };
                // `a.b.c`: each further name a member of what is before it.
                let mut kind = kind;
                let mut base_end = match &kind {
                    ExprKind::Field { name, .. } => name.span.end,
                    _ => span.end,
                };
                for name in names {
                    let base_span = Span {
                        start: span.start,
                        end: base_end,
                        file: span.file,
                    };
                    base_end = name.span.end;
                    kind = ExprKind::Member {
                        base: Box::new(Expr {
                            kind,
                            span: base_span,
                        }),
                        name,
                    };
                }
                kind
            }
            Rule::paren => {
                let inner = pair.into_inner().find(|p| p.as_rule() == Rule::expr);
                let inner = inner.ok_or_else(|| self.malformed(span.start as usize))?;
                // The parentheses belong to the expression's text, so to its span.
                let expr = self.expr_at(inner, depth)?;
                return Ok(Expr {
                    kind: expr.kind,
                    span,
                });
            }
            Rule::call => {
                let mut inner = pair.into_inner();
                let func = self.ident(&self.next(&mut inner, span.start as usize)?);
                let args = inner
                    .filter(|p| p.as_rule() == Rule::expr)
                    .map(|p| self.expr_at(p, depth))
                    .collect::<Result<Vec<_>, _>>()?;
                ExprKind::Call { func, args }
            }
            Rule::case_expr => {
                let mut branches = Vec::new();
                let mut otherwise = None;
                for part in pair.into_inner() {
                    let exprs = |p: Pair<'_, Rule>| -> Result<Vec<Expr>, ParseError> {
                        p.into_inner()
                            .filter(|e| e.as_rule() == Rule::expr)
                            .map(|e| self.expr_at(e, depth))
                            .collect()
                    };
                    match part.as_rule() {
                        Rule::case_when => {
                            let mut both = exprs(part)?.into_iter();
                            match (both.next(), both.next()) {
                                (Some(c), Some(v)) => branches.push((c, v)),
                                _ => return Err(self.malformed(span.start as usize)),
                            }
                        }
                        Rule::case_else => {
                            otherwise = exprs(part)?.into_iter().next().map(Box::new)
                        }
                        _ => {}
                    }
                }
                ExprKind::Case {
                    branches,
                    otherwise,
                }
            }
            _ => return Err(self.malformed(span.start as usize)),
        };
        Ok(Expr { kind, span })
    }
}
