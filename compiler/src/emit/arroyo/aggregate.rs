//! One feature's aggregation in a pipeline query: Arroyo's built-in aggregate where
//! it computes exactly what featc does (counts, `count_distinct` of non-floats, `min`
//! and `max` of non-floats), a generated UDAF (`udf::UdfSpec`) everywhere else.
//!
//! The feature's own `where` (the view's is the query's `WHERE`) is a `FILTER
//! (WHERE ...)` on the aggregate, and a UDAF's filter also drops null values: a UDAF
//! receives exactly the non-null values of the window's events that pass the
//! feature's condition (first/last: their event times in µs and their values, row
//! for row). Sums and `count_distinct` are zero over no value (a window emitted
//! because of other events of the view), as in featc.

use datafusion::sql::sqlparser::ast::Expr;

use super::flavor::Arroyo;
use super::statements::filtered;
use super::udf::{UdfKind, UdfSpec};
use crate::emit::sql::ast::{and_all, call, call_distinct, count_star, int, is_null};
use crate::emit::sql::dialect::Flavor;
use crate::emit::sql::expr::float;
use crate::ir::{AggKind, DataType};

/// What one feature aggregates.
pub struct Input {
    /// The aggregated expression and its type (`None` for `count(*)`).
    pub value: Option<(Expr, DataType)>,
    /// The feature's condition beyond the view's `where` (`None`: every event).
    pub condition: Option<Expr>,
    /// The event's time in µs (an int64).
    pub time_us: Expr,
}

/// The aggregation of `agg` (not a list aggregation: those are refused before).
pub fn aggregate(flavor: &Arroyo, agg: AggKind, input: Input) -> Expr {
    let Input {
        value,
        condition,
        time_us,
    } = input;
    let (x, ty) = value.unwrap_or_else(|| (int(1), DataType::Int64));
    let builtin = |e: Expr| filtered(e, condition.clone());
    let udaf = |kind: UdfKind, args: Vec<Expr>| {
        let mut conds: Vec<Expr> = condition.iter().cloned().collect();
        conds.push(is_null(x.clone(), true));
        let spec = UdfSpec { kind, input: ty };
        filtered(flavor.udf(spec, args), Some(and_all(conds)))
    };
    let zero_when_empty = |e: Expr, zero: Expr| call("COALESCE", vec![e, zero]);
    match agg {
        AggKind::CountStar => builtin(count_star()),
        AggKind::Count => builtin(call("COUNT", vec![x])),
        AggKind::CountIf => {
            let mut conds: Vec<Expr> = condition.iter().cloned().collect();
            conds.push(x);
            filtered(count_star(), Some(and_all(conds)))
        }
        AggKind::CountDistinct if ty == DataType::Float64 => {
            zero_when_empty(udaf(UdfKind::CountDistinct, vec![x.clone()]), int(0))
        }
        AggKind::CountDistinct => builtin(call_distinct("COUNT", x)),
        AggKind::Sum => {
            let zero = match ty {
                DataType::Float64 => float(flavor, 0.0),
                _ => int(0),
            };
            zero_when_empty(udaf(UdfKind::Sum, vec![x.clone()]), zero)
        }
        AggKind::Avg => udaf(UdfKind::Avg, vec![x.clone()]),
        AggKind::VarPop => udaf(UdfKind::VarPop, vec![x.clone()]),
        AggKind::StddevPop => udaf(UdfKind::StddevPop, vec![x.clone()]),
        AggKind::Min | AggKind::Max if ty == DataType::Float64 => {
            let kind = if agg == AggKind::Max {
                UdfKind::Max
            } else {
                UdfKind::Min
            };
            udaf(kind, vec![x.clone()])
        }
        // Integers, strings (by bytes, as DataFusion compares them), booleans and
        // timestamps order as featc orders them.
        AggKind::Min | AggKind::Max => builtin(flavor.min_max(agg == AggKind::Max, x.clone(), ty)),
        AggKind::First => udaf(UdfKind::First, vec![time_us, x.clone()]),
        AggKind::Last => udaf(UdfKind::Last, vec![time_us, x.clone()]),
        AggKind::Percentile(q) => udaf(UdfKind::Percentile(q), vec![x.clone()]),
        AggKind::LastK(_) | AggKind::FirstK(_) | AggKind::TopK(_) => crate::emit::sql::ast::null(),
    }
}
