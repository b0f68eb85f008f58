//! The column names an expression reads, so that only the columns a requested
//! feature needs are read (and required) from the data.

use std::collections::BTreeSet;

use crate::ir::{Expr, ExprKind};

/// Adds every `Column` name that `expr` mentions to `out`.
#[recursive::recursive]
pub fn collect_columns(expr: &Expr, out: &mut BTreeSet<String>) {
    match &expr.kind {
        ExprKind::Column(name) => {
            out.insert(name.clone());
        }
        ExprKind::Literal(_) => {}
        ExprKind::Cast(inner) | ExprKind::Not(inner) | ExprKind::Neg(inner) => {
            collect_columns(inner, out)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            collect_columns(lhs, out);
            collect_columns(rhs, out);
        }
        ExprKind::IsNull { expr, .. } => collect_columns(expr, out),
        ExprKind::InList { expr, list, .. } => {
            collect_columns(expr, out);
            for item in list {
                collect_columns(item, out);
            }
        }
        ExprKind::Coalesce(args) | ExprKind::Call { args, .. } => {
            for arg in args {
                collect_columns(arg, out);
            }
        }
        ExprKind::Case {
            branches,
            otherwise,
        } => {
            for (condition, value) in branches {
                collect_columns(condition, out);
                collect_columns(value, out);
            }
            if let Some(e) = otherwise {
                collect_columns(e, out);
            }
        }
    }
}
