//! How large an expression becomes once its lets are inlined, as the feature plan
//! inlines them (`lower::groups`). The parser bounds each expression's own depth, but
//! lets compose: a chain of a thousand lets is a thousand levels deep once inlined,
//! and `let b = a + a` doubles `a` at every step. Both are refused here, at check, so
//! that every later pass (plan, lowering, DataFusion, printers) walks a bounded tree
//! and any project that checks clean compiles and runs.

use std::collections::HashMap;

use featc_runtime::ir::{self, ExprKind};

use super::error::CheckError;
use super::exprs::ast_span;

/// The deepest an expression may be once expanded: far above any real feature, far
/// below what a recursive pass on a 2 MiB thread stack can walk.
pub const MAX_DEPTH: usize = 256;
/// The most nodes an expression may have once expanded.
pub const MAX_SIZE: usize = 100_000;

/// How many let names a report lists.
const NAMED_LETS: usize = 5;

/// Depth and node count of an expanded expression (saturating), and the first lets it
/// reaches (at most `NAMED_LETS`, for the report).
#[derive(Debug, Clone, Default)]
struct Cost {
    depth: usize,
    size: usize,
    lets: Vec<String>,
    /// It reaches more lets than `lets` names.
    more_lets: bool,
}

/// The expanded cost of each let of a view, in declaration order.
#[derive(Default)]
pub struct Expansion {
    lets: HashMap<String, Option<Cost>>,
}

impl Expansion {
    /// Records let `l` (after the lets before it). A let too large is reported here,
    /// once; expressions that use it are then not reported again.
    pub fn add_let(&mut self, l: &ir::Let, errors: &mut Vec<CheckError>) {
        let cost = self.cost(&l.expr).filter(|c| within(c, &l.expr, errors));
        self.lets.insert(l.name.clone(), cost);
    }

    /// Reports `e` when it is too large once its lets are expanded.
    pub fn check(&self, e: &ir::Expr, errors: &mut Vec<CheckError>) {
        if let Some(c) = self.cost(e) {
            within(&c, e, errors);
        }
    }

    /// `None` when `e` uses a let already reported.
    #[recursive::recursive]
    fn cost(&self, e: &ir::Expr) -> Option<Cost> {
        let mut total = Cost::default();
        let mut children: Vec<&ir::Expr> = Vec::new();
        match &e.kind {
            ExprKind::Column(name) => match self.lets.get(name) {
                Some(Some(c)) => {
                    total.lets.push(name.clone());
                    let more_lets = merge_names(&mut total.lets, &c.lets) || c.more_lets;
                    return Some(Cost {
                        depth: c.depth,
                        size: c.size,
                        lets: total.lets,
                        more_lets,
                    });
                }
                Some(None) => return None,
                None => {}
            },
            ExprKind::Literal(_) => {}
            ExprKind::Cast(x) | ExprKind::Not(x) | ExprKind::Neg(x) => children.push(x),
            ExprKind::Binary { lhs, rhs, .. } => children.extend([&**lhs, &**rhs]),
            ExprKind::IsNull { expr, .. } => children.push(expr),
            ExprKind::InList { expr, list, .. } => {
                children.push(expr);
                children.extend(list);
            }
            ExprKind::Coalesce(args) | ExprKind::Call { args, .. } => children.extend(args),
            ExprKind::Case {
                branches,
                otherwise,
            } => {
                for (c, v) in branches {
                    children.extend([c, v]);
                }
                children.extend(otherwise.as_deref());
            }
        }
        for child in children {
            let c = self.cost(child)?;
            total.depth = total.depth.max(c.depth);
            total.size = total.size.saturating_add(c.size);
            total.more_lets |= merge_names(&mut total.lets, &c.lets) || c.more_lets;
        }
        total.depth = total.depth.saturating_add(1);
        total.size = total.size.saturating_add(1);
        Some(total)
    }
}

/// Appends the names of `more` not in `names`, up to `NAMED_LETS` in all; true when
/// some did not fit.
fn merge_names(names: &mut Vec<String>, more: &[String]) -> bool {
    for l in more {
        if !names.contains(l) {
            if names.len() >= NAMED_LETS {
                return true;
            }
            names.push(l.clone());
        }
    }
    false
}

/// Whether `c` is within the limits; reports `e` otherwise.
fn within(c: &Cost, e: &ir::Expr, errors: &mut Vec<CheckError>) -> bool {
    if c.depth <= MAX_DEPTH && c.size <= MAX_SIZE {
        return true;
    }
    errors.push(CheckError::ExpansionTooLarge {
        span: ast_span(e.span),
        depth: c.depth,
        size: c.size,
        max_depth: MAX_DEPTH,
        max_size: MAX_SIZE,
        lets: c.lets.clone(),
        more_lets: c.more_lets,
    });
    false
}
