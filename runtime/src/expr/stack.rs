//! Enough stack for DataFusion to plan and evaluate an expression of a given depth.
//!
//! `check` bounds an expanded expression to `MAX_DEPTH` levels, but DataFusion's
//! `PhysicalExpr::evaluate` (and parts of its planning) recurse once per level without
//! growing the stack, and a debug build spends kilobytes per level: 255 levels
//! overflow a 2 MiB thread (tokio's and `std::thread`'s default). Code that hands a
//! deep expression to DataFusion runs it through `with_stack_for`, which moves to a
//! fresh stack segment only when the current one has less room than the depth needs,
//! so shallow expressions (all real ones) never pay for it.

use crate::ir::{Expr, ExprKind};

/// Stack one level of DataFusion's expression recursion may take, with margin.
const PER_LEVEL: usize = if cfg!(debug_assertions) { 32 } else { 8 } * 1024;
/// Stack the non-recursive part of a call may take.
const BASE: usize = 256 * 1024;

/// Runs `f` with at least the stack an expression `depth` levels deep needs.
pub fn with_stack_for<R>(depth: usize, f: impl FnOnce() -> R) -> R {
    let need = BASE + depth.saturating_mul(PER_LEVEL);
    stacker::maybe_grow(need, need.saturating_mul(2), f)
}

/// The number of levels of `expr` (a leaf is 1), walked with an explicit stack.
pub fn depth(expr: &Expr) -> usize {
    let mut max_seen = 0;
    let mut stack = vec![(expr, 1)];
    while let Some((e, d)) = stack.pop() {
        max_seen = max_seen.max(d);
        match &e.kind {
            ExprKind::Column(_) | ExprKind::Literal(_) => {}
            ExprKind::Cast(inner) | ExprKind::Not(inner) | ExprKind::Neg(inner) => {
                stack.push((inner, d + 1))
            }
            ExprKind::IsNull { expr, .. } => stack.push((expr, d + 1)),
            ExprKind::Binary { lhs, rhs, .. } => {
                stack.push((lhs, d + 1));
                stack.push((rhs, d + 1));
            }
            ExprKind::InList { expr, list, .. } => {
                stack.push((expr, d + 1));
                stack.extend(list.iter().map(|i| (i, d + 1)));
            }
            ExprKind::Coalesce(args) | ExprKind::Call { args, .. } => {
                stack.extend(args.iter().map(|a| (a, d + 1)))
            }
            ExprKind::Case {
                branches,
                otherwise,
            } => {
                for (c, v) in branches {
                    stack.push((c, d + 1));
                    stack.push((v, d + 1));
                }
                stack.extend(otherwise.as_deref().map(|o| (o, d + 1)));
            }
        }
    }
    max_seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinaryOp, DataType, Literal};

    fn leaf() -> Expr {
        Expr {
            kind: ExprKind::Literal(Literal::Int64(1)),
            ty: DataType::Int64,
            nullable: false,
            span: Default::default(),
        }
    }

    #[test]
    fn depth_counts_levels() {
        assert_eq!(depth(&leaf()), 1);
        let mut e = leaf();
        for _ in 0..9 {
            e = Expr {
                kind: ExprKind::Binary {
                    op: BinaryOp::Add,
                    lhs: Box::new(leaf()),
                    rhs: Box::new(e),
                },
                ty: DataType::Int64,
                nullable: false,
                span: Default::default(),
            };
        }
        assert_eq!(depth(&e), 10);
    }

    #[test]
    fn a_deep_call_runs_on_a_small_thread() {
        // 255 levels of real recursion on a 256 KiB thread.
        fn down(n: usize) -> usize {
            let pad = [n as u8; 2048];
            if n == 0 {
                0
            } else {
                1 + down(n - 1) + usize::from(std::hint::black_box(pad)[0] == 255)
            }
        }
        let levels = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| with_stack_for(255, || down(255)))
            .map(|h| h.join());
        assert!(matches!(levels, Ok(Ok(n)) if n >= 255));
    }
}
