//! Expressions as `featc diff` compares them: span-free text, lets inlined as the
//! feature plan inlines them, and the lets an expression reads.
//!
//! The text is the IR printer's (`print::ir::top`): fully parenthesized, names as
//! written, typed nulls and the casts `check` inserted. Given the types of the columns
//! it reads (which a meaning records beside it), that text determines the typed
//! expression, so two texts are equal exactly when the expressions compute the same
//! thing; spans, comments and layout never reach it.

use std::convert::Infallible;

use featc_runtime::ir::{Expr, ExprKind, Let, View};

use crate::lower::groups::{inline_lets, GroupingError};
use crate::print::ir::top;

/// The canonical text of an expression.
pub fn text(e: &Expr) -> String {
    top(e)
}

/// The text without the casts `check` inserted: what the user wrote, so that a change
/// caused only by a column's type (an `int64` now `float64`, no cast needed any more)
/// is told apart from an edit of the expression.
pub fn untyped(e: &Expr) -> String {
    top(&strip_casts(e))
}

/// `e` with the view's lets inlined, transitively (`plan_groups`' own rule).
pub fn inlined(e: &Expr, view: &View) -> Result<Expr, GroupingError> {
    inline_lets(e, &view.lets, 0, &view.name)
}

/// The lets `exprs` read, directly or through other lets, each once, in order of
/// first use. A let sees only the lets declared before it, so a name is looked up
/// among those (the last of them with that name, as `check` resolved it).
pub fn lets_read<'v>(exprs: &[&Expr], lets: &'v [Let]) -> Vec<&'v Let> {
    let mut out: Vec<usize> = Vec::new();
    // (expression, how many lets it sees)
    let mut stack: Vec<(&Expr, usize)> = exprs.iter().rev().map(|e| (*e, lets.len())).collect();
    while let Some((e, visible)) = stack.pop() {
        let mut columns = Vec::new();
        e.columns_into(&mut columns);
        for column in columns.iter().rev() {
            let Some(i) = lets[..visible].iter().rposition(|l| &l.name == column) else {
                continue;
            };
            if !out.contains(&i) {
                out.push(i);
                stack.push((&lets[i].expr, i));
            }
        }
    }
    out.into_iter().map(|i| &lets[i]).collect()
}

/// `e` without `Cast` nodes (each replaced by its operand).
#[recursive::recursive]
fn strip_casts(e: &Expr) -> Expr {
    let kind = match &e.kind {
        ExprKind::Cast(inner) => return strip_casts(inner),
        other => match other.try_map_children(&mut |x| Ok::<_, Infallible>(strip_casts(x))) {
            Ok(kind) => kind,
            Err(never) => match never {},
        },
    };
    Expr {
        kind,
        ty: e.ty,
        nullable: e.nullable,
        span: e.span,
    }
}
