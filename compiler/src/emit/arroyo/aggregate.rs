//! One feature's aggregation in a pipeline query: Arroyo's built-in aggregate where
//! it computes exactly what featc does (counts, `count_distinct` of non-floats, `min`
//! and `max` of non-floats, `first`/`last` of strings and booleans through `MIN`/`MAX`
//! of time-prefixed values), a generated UDAF (`udf::UdfSpec`) everywhere else.
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
use datafusion::sql::sqlparser::ast::{BinaryOperator, DataType as SqlDataType};

use crate::emit::sql::ast::{
    and_all, binary, call, call_distinct, case, cast, count_star, int, is_null, string,
};
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

/// The UDF the aggregation of `agg` over values of type `ty` calls, if any: the one
/// place that decides between Arroyo's built-in and a generated UDF (`aggregate`
/// calls exactly this one; `layout` refuses a feature whose UDF cannot be generated).
pub fn udf_needed(agg: AggKind, ty: DataType) -> Option<UdfSpec> {
    let kind = match agg {
        AggKind::CountDistinct if ty == DataType::Float64 => UdfKind::CountDistinct,
        AggKind::Sum => UdfKind::Sum,
        AggKind::Avg => UdfKind::Avg,
        AggKind::VarPop => UdfKind::VarPop,
        AggKind::StddevPop => UdfKind::StddevPop,
        AggKind::Max if ty == DataType::Float64 => UdfKind::Max,
        AggKind::Min if ty == DataType::Float64 => UdfKind::Min,
        // Strings and booleans: `by_time` (arroyo-udf-plugin passes no strings or
        // booleans to an aggregate).
        AggKind::First | AggKind::Last if matches!(ty, DataType::String | DataType::Bool) => {
            return None
        }
        AggKind::First => UdfKind::First,
        AggKind::Last => UdfKind::Last,
        AggKind::Percentile(q) => UdfKind::Percentile(q),
        _ => return None,
    };
    Some(UdfSpec { kind, input: ty })
}

/// The aggregation of `agg` (not a list aggregation: those are refused before).
/// Timestamps travel to and from a UDF as int64 µs (arroyo-udf-plugin has no
/// timestamp type).
pub fn aggregate(flavor: &Arroyo, agg: AggKind, input: Input) -> Expr {
    let Input {
        value,
        condition,
        time_us,
    } = input;
    let (x, ty) = value.unwrap_or_else(|| (int(1), DataType::Int64));
    let builtin = |e: Expr| filtered(e, condition.clone());
    if let Some(spec) = udf_needed(agg, ty) {
        let mut conds: Vec<Expr> = condition.iter().cloned().collect();
        conds.push(is_null(x.clone(), true));
        let value = match ty {
            DataType::Timestamp => flavor.epoch_us(x.clone()),
            _ => x.clone(),
        };
        let args = match spec.kind {
            UdfKind::First | UdfKind::Last => vec![time_us, value],
            _ => vec![value],
        };
        let called = filtered(flavor.udf(spec, args), Some(and_all(conds)));
        return match (spec.kind, ty) {
            (UdfKind::Sum, DataType::Float64) => zero_when_empty(called, float(flavor, 0.0)),
            (UdfKind::Sum, _) | (UdfKind::CountDistinct, _) => zero_when_empty(called, int(0)),
            (_, DataType::Timestamp) => call("to_timestamp_micros", vec![called]),
            _ => called,
        };
    }
    match agg {
        AggKind::CountStar => builtin(count_star()),
        AggKind::Count => builtin(call("COUNT", vec![x])),
        AggKind::CountIf => {
            let mut conds: Vec<Expr> = condition.iter().cloned().collect();
            conds.push(x);
            filtered(count_star(), Some(and_all(conds)))
        }
        AggKind::CountDistinct => builtin(call_distinct("COUNT", x)),
        // Integers, strings (by bytes, as DataFusion compares them), booleans and
        // timestamps order as featc orders them.
        AggKind::Min | AggKind::Max => builtin(flavor.min_max(agg == AggKind::Max, x.clone(), ty)),
        AggKind::First | AggKind::Last => {
            let mut conds: Vec<Expr> = condition.iter().cloned().collect();
            conds.push(is_null(x.clone(), true));
            by_time(agg == AggKind::Last, time_us, x, ty, and_all(conds))
        }
        _ => crate::emit::sql::ast::null(),
    }
}

/// `first`/`last` of a string or a boolean with Arroyo's own `MIN`/`MAX`: each value
/// prefixed by its event time as 19 digits (`time_us + 2^62`: positive for every
/// time an Arroyo nanosecond timestamp holds, so the digits order as the times do),
/// the least (greatest) text taken, and the prefix cut off. Ties on time fall to the
/// value, compared by bytes as featc compares strings (`false` as `0` below `true` as
/// `1`): featc's tie-breaks, exactly.
fn by_time(last: bool, time_us: Expr, x: Expr, ty: DataType, condition: Expr) -> Expr {
    let time = call(
        "lpad",
        vec![
            cast(
                binary(time_us, BinaryOperator::Plus, int(1 << 62)),
                SqlDataType::Text,
            ),
            int(19),
            string("0"),
        ],
    );
    let value = match ty {
        DataType::Bool => case(vec![(x, string("1"))], Some(string("0"))),
        _ => x,
    };
    let keyed = binary(time, BinaryOperator::StringConcat, value);
    let pick = filtered(
        call(if last { "MAX" } else { "MIN" }, vec![keyed]),
        Some(condition),
    );
    let rest = call("SUBSTR", vec![pick, int(20)]);
    match ty {
        DataType::Bool => binary(rest, BinaryOperator::Eq, string("1")),
        _ => rest,
    }
}

fn zero_when_empty(e: Expr, zero: Expr) -> Expr {
    call("COALESCE", vec![e, zero])
}
