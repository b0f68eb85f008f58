//! Count windows (`over N events`) in the frame strategy: a `ROWS` frame over the
//! events of the key that meet the feature's condition, in the order semantics.md
//! cuts them (time, then the input's value, nulls first), gives each event the fold
//! of the `N` latest events up to it, and its place in that order is its rank. A
//! spine row reads the value of the latest such event at or before its read time:
//! the frame strategy finds that event's rank (`MAX` over a `RANGE` frame, as for
//! first/last) and looks its value up by key and rank. O((events + spine) log) per
//! key where the join strategy ranks every event of the key again for every spine
//! row.
//!
//! Events equal in time and value are interchangeable (semantics.md, "Count
//! windows"), so the order an engine picks among them changes no value; the rank and
//! the `ROWS` frame share one window specification, so they agree on it.

use datafusion::sql::sqlparser::ast::{Expr, OrderByExpr};

use super::aggregate::{aggregate, Row};
use super::ast::{ascending_nulls_first, col, null, over_rows, when, window};
use super::dialect::Flavor;
use super::frame::map_aggregates;
use crate::ir::DataType;
use featc_runtime::plan::{FeaturePlan, GroupPlan};

/// What a count-window feature adds to each event row.
pub struct CountColumns {
    /// The event's place among the key's events that meet the condition, oldest
    /// first (null for an event that does not meet it).
    pub rank: Expr,
    /// The feature's fold over the `N` latest of those events up to this one.
    pub value: Expr,
}

/// The columns of count-window feature `feat` (its `events` set, no duration) of
/// `g` over the events CTE's columns; `condition` is the feature's (view's and own
/// filters), `None` when every event counts.
pub fn count_columns(
    flavor: &dyn Flavor,
    g: &GroupPlan,
    feat: &FeaturePlan,
    condition: Option<Expr>,
) -> Option<CountColumns> {
    let q = flavor.quote();
    let events = feat.events?;
    let n = |prefix: &str, i: usize| format!("featc_{prefix}{i}");
    let mut partition: Vec<Expr> = (0..g.keys.len()).map(|k| col(q, &n("k", k))).collect();
    partition.extend(condition.clone());
    let input = feat.input.map(|i| col(q, &n("in", i)));
    let input_ty = feat.input.and_then(|i| g.inputs.get(i)).map(|e| e.ty);
    let mut oldest: Vec<OrderByExpr> = vec![ascending_nulls_first(col(q, "featc_ts"))];
    if let Some(x) = &input {
        let key = flavor.order_key(x.clone(), input_ty.unwrap_or(DataType::Int64));
        oldest.push(ascending_nulls_first(key));
    }
    let row = Row {
        flavor,
        condition: None,
        input,
        input_ty,
        time: col(q, "featc_ts"),
        spine_row: col(q, "featc_row"),
    };
    let (fold, _) = aggregate(&row, feat.agg, feat.ty, &|_| null());
    let preceding = events.saturating_sub(1);
    let value = map_aggregates(fold, |call| {
        over_rows(call, partition.clone(), oldest.clone(), preceding)
    });
    let rank = window("ROW_NUMBER", Vec::new(), partition, oldest);
    let rank = match condition {
        Some(c) => when(c, rank),
        None => rank,
    };
    Some(CountColumns { rank, value })
}
