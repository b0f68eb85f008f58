//! Which strategy computes each feature of a group, and why (the emitted query's
//! comments say it): a window frame over the group's events with the spine rows
//! unioned in as markers (`frame`: O((events + spine) log) per key), or the join of
//! every spine row with the events of its window (`group`: the general form, for
//! the aggregations a frame cannot compute exactly in the dialect).

use datafusion::sql::sqlparser::ast::{Cte, Expr};

use super::dialect::Flavor;
use crate::ir::{AggKind, DataType};
use featc_runtime::plan::{FeaturePlan, GroupPlan};

/// How a feature is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// A `RANGE` frame ending at the marker row of the spine row.
    Frame,
    /// The join of each spine row with the events of its window, then `GROUP BY`.
    Join,
}

/// What a strategy emits for its features of one group: its CTEs, the last one's
/// name and the alias the final select reads it under, and each feature's value
/// there.
pub struct StrategySql {
    pub ctes: Vec<Cte>,
    pub name: String,
    pub alias: String,
    /// (feature index in the group, its value).
    pub values: Vec<(usize, Expr)>,
}

/// The strategy of feature `f` of `g` in the dialect, with the reason the query's
/// comments give.
pub fn choose(flavor: &dyn Flavor, g: &GroupPlan, f: &FeaturePlan) -> (Strategy, &'static str) {
    let input_ty = f.input.and_then(|i| g.inputs.get(i)).map(|e| e.ty);
    let lifetime = f.window_us.is_none();
    if f.events.is_some() {
        return counted(flavor, f, input_ty);
    }
    if f.window_us.is_some_and(|w| w < 1) {
        return (Strategy::Join, "a window under 1 µs has no frame");
    }
    match f.agg {
        AggKind::CountStar | AggKind::Count | AggKind::CountIf => {
            (Strategy::Frame, "a count over a frame is exact")
        }
        AggKind::Sum if f.ty == DataType::Int64 => (
            Strategy::Frame,
            "an int64 sum over a frame is exact (summed as DECIMAL(38, 0))",
        ),
        AggKind::Avg if input_ty == Some(DataType::Int64) => (
            Strategy::Frame,
            "an int64 average over a frame is its exact sum and count",
        ),
        AggKind::Min | AggKind::Max => (Strategy::Frame, "min and max over a frame are exact"),
        AggKind::First | AggKind::Last => (
            Strategy::Frame,
            "the frame finds the event rank by time then value, exactly, and looks its value up",
        ),
        AggKind::Sum | AggKind::Avg if lifetime => (
            Strategy::Frame,
            "the frame of a lifetime float sum only grows: one fold, within the documented bound",
        ),
        AggKind::Sum | AggKind::Avg if flavor.sliding_sum_folds() => (
            Strategy::Frame,
            "the dialect folds the floats of a sliding frame without subtracting: within the documented bound",
        ),
        AggKind::Sum | AggKind::Avg => (
            Strategy::Join,
            "the sliding float sum of the dialect subtracts leaving values, outside the documented bound",
        ),
        AggKind::CountDistinct => (Strategy::Join, "a distinct count has no frame form"),
        AggKind::VarPop | AggKind::StddevPop => (
            Strategy::Join,
            "the variance of a frame is not the fold the documented bound is for",
        ),
        AggKind::Percentile(_) => (Strategy::Join, "a percentile ranks the values of each window"),
        AggKind::LastK(_) | AggKind::FirstK(_) | AggKind::TopK(_) => {
            (Strategy::Join, "refused before it is emitted")
        }
    }
}

/// The strategy of a count window (`rows`): a `ROWS` frame where the fold over the
/// `N` latest events up to an event is exact in the dialect and needs no read time.
fn counted(
    flavor: &dyn Flavor,
    f: &FeaturePlan,
    input_ty: Option<DataType>,
) -> (Strategy, &'static str) {
    if f.window_us.is_some() {
        return (
            Strategy::Join,
            "a capped count window cuts by the read time as well as by count: each spine row numbers its window's events",
        );
    }
    let exact = "a count window is a ROWS frame over the events by time then value, read at the spine row's latest event";
    match f.agg {
        AggKind::CountStar | AggKind::Count | AggKind::CountIf | AggKind::Min | AggKind::Max => {
            (Strategy::Frame, exact)
        }
        AggKind::Sum if f.ty == DataType::Int64 => (Strategy::Frame, exact),
        AggKind::Avg if input_ty == Some(DataType::Int64) => (Strategy::Frame, exact),
        AggKind::Sum | AggKind::Avg if flavor.sliding_sum_folds() => (
            Strategy::Frame,
            "a count window is a ROWS frame the dialect folds without subtracting: within the documented bound",
        ),
        _ => (
            Strategy::Join,
            "a count window numbers each spine row's events by time, then value",
        ),
    }
}
