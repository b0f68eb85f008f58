//! One feature's aggregation as SQL over the joined rows of its group: the
//! aggregate function with the feature's condition (window, filters) folded in as a
//! `CASE`, and the window functions that first/last and percentiles rank with.
//!
//! Exactness (docs/scale-out.md): counts, `count_distinct`, integer `sum`, `min`,
//! `max`, `first`, `last` and percentiles are exact (int64 sums are summed as
//! `DECIMAL(38, 0)` and fail when they leave int64); float64 `sum`, `avg`, `var_pop`
//! and `stddev_pop` are the engine's floating-point folds, within the bound
//! documented there; an int64 `avg` is the exact sum rounded, divided by the count.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, OrderByExpr};

use super::ast::{
    and_all, binary, call, call_distinct, cast, count_star, eq, int, or, order, when, window,
};
use super::dialect::{Flavor, SqlType};
use crate::ir::{AggKind, DataType, Quantile};

/// The largest denominator of a percentile's fraction the SQL ranks with: the rank
/// test multiplies it by row counts in int64.
pub const MAX_QUANTILE_DEN: u64 = 1_000_000;

/// What an aggregate reads from a joined row.
pub struct Row<'a> {
    pub flavor: &'a dyn Flavor,
    /// The feature's condition (its window and filters), `None` when every joined
    /// row counts.
    pub condition: Option<Expr>,
    /// The aggregated input (`None` for `count(*)`).
    pub input: Option<Expr>,
    pub input_ty: Option<DataType>,
    /// The row's time (int64 microseconds).
    pub time: Expr,
    /// The joined row's spine row, what window functions partition by.
    pub spine_row: Expr,
}

impl Row<'_> {
    /// `x` where the condition holds, null elsewhere.
    fn when(&self, x: Expr) -> Expr {
        match &self.condition {
            Some(c) => when(c.clone(), x),
            None => x,
        }
    }

    /// The condition and `more`.
    fn and(&self, more: Expr) -> Expr {
        match &self.condition {
            Some(c) => and_all(vec![c.clone(), more]),
            None => more,
        }
    }
}

/// A window function a feature ranks with, computed in a CTE before the aggregation.
pub struct Ranking {
    pub expr: Expr,
}

/// The aggregation of `agg` over the rows, the window functions it needs (they are
/// columns `ranks[i]` of the row when the aggregate is evaluated: `rank_col(i)`).
pub fn aggregate(
    row: &Row<'_>,
    agg: AggKind,
    ty: DataType,
    rank_col: &dyn Fn(usize) -> Expr,
) -> (Expr, Vec<Ranking>) {
    let f = row.flavor;
    let x = || row.input.clone().unwrap_or_else(|| int(1));
    let input_ty = row.input_ty.unwrap_or(DataType::Int64);
    let wide = |e: Expr| cast(e, f.sql_type(SqlType::Wide));
    let double = |e: Expr| match input_ty {
        DataType::Float64 => e,
        _ => cast(e, f.sql_type(SqlType::Float64)),
    };
    let plain = |e: Expr| (e, Vec::new());
    match agg {
        AggKind::CountStar => plain(match &row.condition {
            Some(c) => call("COUNT", vec![when(c.clone(), int(1))]),
            None => count_star(),
        }),
        AggKind::Count => plain(call("COUNT", vec![row.when(x())])),
        AggKind::CountIf => plain(call("COUNT", vec![when(row.and(x()), int(1))])),
        AggKind::CountDistinct => plain(call_distinct(
            "COUNT",
            row.when(f.distinct_key(x(), input_ty)),
        )),
        AggKind::Sum if ty == DataType::Int64 => {
            plain(f.checked_int64(call("SUM", vec![wide(row.when(x()))]), "an int64 sum"))
        }
        AggKind::Sum => plain(call("SUM", vec![row.when(x())])),
        AggKind::Avg if input_ty == DataType::Int64 => plain(binary(
            cast(
                call("SUM", vec![wide(row.when(x()))]),
                f.sql_type(SqlType::Float64),
            ),
            BinaryOperator::Divide,
            call("NULLIF", vec![call("COUNT", vec![row.when(x())]), int(0)]),
        )),
        AggKind::Avg => plain(call("AVG", vec![row.when(x())])),
        AggKind::VarPop => plain(f.var_pop(false, double(row.when(x())))),
        AggKind::StddevPop => plain(f.var_pop(true, double(row.when(x())))),
        AggKind::Min | AggKind::Max => plain(f.min_max(
            agg == AggKind::Max,
            row.when(f.order_key(x(), input_ty)),
            input_ty,
        )),
        AggKind::First | AggKind::Last => {
            // The latest (earliest) non-null event, ties on time by the greatest
            // (smallest) value: rank 1 of its condition's rows.
            let latest = agg == AggKind::Last;
            let ranked = row.and(is_not_null(x()));
            let rank = window(
                "ROW_NUMBER",
                Vec::new(),
                vec![row.spine_row.clone(), ranked.clone()],
                vec![
                    order(row.time.clone(), !latest),
                    order(f.order_key(x(), input_ty), !latest),
                ],
            );
            let value = when(and_all(vec![ranked, eq(rank_col(0), int(1))]), x());
            (
                f.min_max(true, value, input_ty),
                vec![Ranking { expr: rank }],
            )
        }
        AggKind::Percentile(q) => percentile(row, q, input_ty, rank_col),
        // Refused before an aggregate is built (`group::refusal`).
        AggKind::LastK(_) | AggKind::FirstK(_) | AggKind::TopK(_) => {
            plain(crate::emit::sql::ast::null())
        }
    }
}

fn is_not_null(e: Expr) -> Expr {
    super::ast::is_null(e, true)
}

/// The nearest rank `max(1, ceil(p * n))` among the `n` non-null values of the
/// condition, sorted: rank `r` is it when `r * den >= num * n` and (`r = 1` or
/// `(r - 1) * den < num * n`), in int64 (`den <= MAX_QUANTILE_DEN`).
fn percentile(
    row: &Row<'_>,
    q: Quantile,
    input_ty: DataType,
    rank_col: &dyn Fn(usize) -> Expr,
) -> (Expr, Vec<Ranking>) {
    let f = row.flavor;
    let x = || row.input.clone().unwrap_or_else(|| int(1));
    let ranked = row.and(is_not_null(x()));
    let order_by: Vec<OrderByExpr> = vec![order(f.order_key(x(), input_ty), true)];
    let rank = window(
        "ROW_NUMBER",
        Vec::new(),
        vec![row.spine_row.clone(), ranked.clone()],
        order_by,
    );
    let count = window(
        "COUNT",
        vec![when(ranked.clone(), int(1))],
        vec![row.spine_row.clone()],
        Vec::new(),
    );
    let (r, n) = (rank_col(0), rank_col(1));
    let (num, den) = (int(q.num() as i64), int(q.den() as i64));
    let mul = |a: Expr, b: Expr| binary(a, BinaryOperator::Multiply, b);
    let target = || mul(num.clone(), n.clone());
    let reaches = binary(mul(r.clone(), den.clone()), BinaryOperator::GtEq, target());
    let before = binary(
        mul(
            binary(r.clone(), BinaryOperator::Minus, int(1)),
            den.clone(),
        ),
        BinaryOperator::Lt,
        target(),
    );
    let is_rank = and_all(vec![reaches, or(eq(r, int(1)), before)]);
    let value = when(and_all(vec![ranked, is_rank]), x());
    (
        f.min_max(true, value, input_ty),
        vec![Ranking { expr: rank }, Ranking { expr: count }],
    )
}
