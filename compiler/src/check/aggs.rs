//! The aggregation names of the language and what each accepts.

use featc_runtime::ir::{AggKind, DataType, Quantile};

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
    "last_k",
    "first_k",
    "top_k",
];

/// The aggregation a name denotes (`count` with `*` is `CountStar`, and
/// `percentile`'s quantile and the list aggregations' `k` its second argument,
/// decided by the caller).
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
        // Their k is their second argument (see `check::features`).
        "last_k" => AggKind::LastK(1),
        "first_k" => AggKind::FirstK(1),
        "top_k" => AggKind::TopK(1),
        _ => return None,
    })
}

/// The accepted argument types, as diagnostics word them, for an argument of type
/// `arg` (a list argument is told what takes lists: semantics.md "List columns").
pub fn accepts(kind: AggKind, arg: DataType) -> &'static str {
    if let DataType::List(_) = arg {
        return match kind {
            AggKind::Avg => "a list of `int64` or `float64` items (averaged item by item)",
            _ => "a list only as `count`, `first`, `last` or (of numbers) `avg` do",
        };
    }
    match kind {
        AggKind::CountStar => "`*`",
        AggKind::CountIf => "`bool`",
        AggKind::Sum
        | AggKind::Avg
        | AggKind::VarPop
        | AggKind::StddevPop
        | AggKind::Percentile(_) => "`int64`, `float64` or a decimal",
        _ => "any scalar type",
    }
}

/// How many arguments `name` takes, as diagnostics word it, and that number.
pub fn arity(name: &str) -> (&'static str, usize) {
    match name {
        "percentile" | "last_k" | "first_k" | "top_k" => ("2", 2),
        _ => ("1", 1),
    }
}

/// True for the aggregations whose second argument is a literal parameter rather
/// than an expression over the events (`percentile`'s p, a list aggregation's k).
pub fn has_parameter(name: &str) -> bool {
    matches!(name, "percentile" | "last_k" | "first_k" | "top_k")
}

/// True for the list aggregations, whose second argument is `k`.
pub fn takes_k(name: &str) -> bool {
    matches!(name, "last_k" | "first_k" | "top_k")
}
