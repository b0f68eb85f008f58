//! The aggregation names of the language and what each accepts.

use featc_runtime::ir::{AggKind, Quantile};

/// Every aggregation name, as listed in diagnostics.
pub const NAMES: &[&str] = &[
    "count",
    "count_if",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "var_pop",
    "stddev_pop",
    "first",
    "last",
    "percentile",
    "median",
];

/// The aggregation a name denotes (`count` with `*` is `CountStar`, and
/// `percentile`'s quantile its second argument, decided by the caller).
pub fn by_name(name: &str) -> Option<AggKind> {
    Some(match name {
        "count" => AggKind::Count,
        "count_if" => AggKind::CountIf,
        "count_distinct" => AggKind::CountDistinct,
        "sum" => AggKind::Sum,
        "avg" => AggKind::Avg,
        "min" => AggKind::Min,
        "max" => AggKind::Max,
        "var_pop" => AggKind::VarPop,
        "stddev_pop" => AggKind::StddevPop,
        "first" => AggKind::First,
        "last" => AggKind::Last,
        // `percentile`'s quantile is its second argument (see `check::features`).
        "percentile" | "median" => AggKind::Percentile(Quantile::MEDIAN),
        _ => return None,
    })
}

/// The accepted argument types, as diagnostics word them.
pub fn accepts(kind: AggKind) -> &'static str {
    match kind {
        AggKind::CountStar => "`*`",
        AggKind::CountIf => "`bool`",
        AggKind::Sum
        | AggKind::Avg
        | AggKind::VarPop
        | AggKind::StddevPop
        | AggKind::Percentile(_) => "`int64` or `float64`",
        _ => "any type",
    }
}

/// How many arguments `name` takes, as diagnostics word it, and that number.
pub fn arity(name: &str) -> (&'static str, usize) {
    match name {
        "percentile" => ("2", 2),
        _ => ("1", 1),
    }
}
