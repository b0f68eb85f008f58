//! Checking one `feature` clause: the aggregation, its argument's type, the
//! per-feature filter and the window.

use super::aggs;
use super::durations::{self, Zero};
use super::error::{CheckError, Operand};
use super::exprs::{ast_span, span, Exprs, Scope};
use super::suggest::closest;
use featc_grammar::ast::{self, AggArgs};
use featc_runtime::ir::{self, AggKind, DataType};

/// Checks a feature. `scope` is `None` when the view's source is unknown: the
/// expressions are then not checked (every column would be unknown), the rest is.
pub fn check(
    decl: &ast::FeatureDecl,
    scope: Option<&Scope>,
    errors: &mut Vec<CheckError>,
) -> ir::Feature {
    let func = &decl.agg.func;
    let kind = aggs::by_name(&func.name);
    if kind.is_none() {
        errors.push(CheckError::UnknownAggregation {
            name: func.name.clone(),
            span: func.span,
            suggestion: closest(&func.name, aggs::NAMES.iter().copied()),
        });
    }
    let (kind, arg) = match (&decl.agg.args, kind) {
        (AggArgs::Star(_), Some(AggKind::Count)) => (Some(AggKind::CountStar), None),
        (AggArgs::Star(star), Some(k)) => {
            errors.push(CheckError::Star {
                agg: k.name(),
                span: *star,
            });
            (None, None)
        }
        (AggArgs::Star(_), None) => (None, None),
        (AggArgs::Exprs(args), k) => {
            let (expected_words, expected) = aggs::arity(&func.name);
            // `last_k(x)`: the missing k is E0034, which says what k is.
            let k_missing = k.is_some() && aggs::takes_k(&func.name) && args.len() == 1;
            if k_missing {
                errors.push(CheckError::ListLength {
                    func: func.name.clone(),
                    span: decl.agg.span,
                    missing: true,
                });
            } else if k.is_some() && args.len() != expected {
                errors.push(CheckError::Arity {
                    func: func.name.clone(),
                    span: decl.agg.span,
                    expected: expected_words,
                    found: args.len(),
                });
            }
            // `percentile(x, p)`, `last_k(x, k)`: the second argument is a literal,
            // not an expression over the events.
            let k = match (k, args.get(1)) {
                (Some(AggKind::Percentile(_)), Some(p)) if func.name == "percentile" => {
                    match quantile(p) {
                        Some(q) => Some(AggKind::Percentile(q)),
                        None => {
                            errors.push(CheckError::Quantile { span: p.span });
                            None
                        }
                    }
                }
                (Some(kind), Some(n)) if aggs::takes_k(&func.name) => match list_length(n) {
                    Some(n) => Some(match kind {
                        AggKind::FirstK(_) => AggKind::FirstK(n),
                        AggKind::TopK(_) => AggKind::TopK(n),
                        _ => AggKind::LastK(n),
                    }),
                    None => {
                        errors.push(CheckError::ListLength {
                            func: func.name.clone(),
                            span: n.span,
                            missing: false,
                        });
                        None
                    }
                },
                (k, _) => k,
            };
            let parameter = |i: usize| i == 1 && aggs::has_parameter(&func.name);
            let checked: Vec<Option<ir::Expr>> = match scope {
                Some(scope) => {
                    let mut exprs = Exprs::new(scope, errors);
                    let expected = (k == Some(AggKind::CountIf)).then_some(DataType::Bool);
                    args.iter()
                        .enumerate()
                        .filter(|(i, _)| !parameter(*i))
                        .map(|(_, a)| exprs.value(a, expected))
                        .collect()
                }
                None => Vec::new(),
            };
            match (
                k,
                args.len() == expected,
                checked.into_iter().next().flatten(),
            ) {
                (Some(k), true, Some(arg)) => (Some(k), Some(arg)),
                _ => (None, None),
            }
        }
    };
    let ty = match (kind, &arg) {
        (Some(k), arg) => match k.result_type(arg.as_ref().map(|a| a.ty)) {
            Some(ty) => ty,
            None => {
                if let Some(a) = &arg {
                    errors.push(CheckError::AggregationType {
                        agg: k.name(),
                        operand: Operand {
                            span: ast_span(a.span),
                            ty: a.ty,
                        },
                        accepts: aggs::accepts(k, a.ty),
                    });
                }
                DataType::Int64
            }
        },
        (None, _) => DataType::Int64,
    };
    let filter = match (&decl.filter, scope) {
        (Some(f), Some(scope)) => {
            Exprs::new(scope, errors).condition(f, "a feature's `where` filter")
        }
        _ => None,
    };
    let window_us = decl
        .window
        .as_ref()
        .and_then(|w| match durations::micros(w, Zero::Rejected) {
            Ok(us) => Some(us),
            Err(e) => {
                errors.push(e);
                None
            }
        });
    let events =
        decl.events
            .as_ref()
            .and_then(|n| match whole_number(&n.text, AggKind::MAX_EVENTS) {
                Some(n) => Some(n),
                None => {
                    errors.push(CheckError::EventCount {
                        span: n.span,
                        capped: decl.window.is_some(),
                    });
                    None
                }
            });
    let offset_us = decl
        .offset
        .as_ref()
        .and_then(|o| match durations::micros(o, Zero::Allowed) {
            Ok(us) => Some(us),
            Err(e) => {
                errors.push(e);
                None
            }
        })
        .unwrap_or(0);
    ir::Feature {
        name: decl.name.name.clone(),
        kind: ir::FeatureKind::Aggregate(ir::Aggregate {
            agg: kind.unwrap_or(AggKind::CountStar),
            arg,
            filter,
            window_us,
            events,
            offset_us,
            exclusive_end: decl.exclusive.is_some(),
        }),
        ty,
        meta: ir::Meta {
            docs: decl.docs.clone(),
            owner: None,
            tags: Vec::new(),
        },
        span: span(decl.span),
    }
}

/// The `k` a list aggregation's k literal spells: an integer literal from 1 to
/// `AggKind::MAX_K` (leading zeros allowed; a sign, a fraction or an expression is
/// not one).
fn list_length(k: &ast::Expr) -> Option<u32> {
    match &k.kind {
        ast::ExprKind::Int(text) => whole_number(text, AggKind::MAX_K),
        _ => None,
    }
}

/// The number digits spell, when it is from 1 to `max` (leading zeros allowed; any
/// number of digits, none of them read past `max`'s length).
fn whole_number(digits: &str, max: u32) -> Option<u32> {
    let digits = digits.trim_start_matches('0');
    if digits.len() > max.to_string().len() {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    (1..=max).contains(&n).then_some(n)
}

/// The quantile a `percentile` p literal spells: a number literal in [0, 1].
fn quantile(p: &ast::Expr) -> Option<ir::Quantile> {
    match &p.kind {
        ast::ExprKind::Int(text) | ast::ExprKind::Float(text) => ir::Quantile::from_decimal(text),
        _ => None,
    }
}
