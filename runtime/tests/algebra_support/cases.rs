//! The (aggregation, input type) pairs the language accepts, shared by the algebra
//! property tests so that they cover the same set.

use featc_runtime::ir::{AggKind, DataType, Quantile};

/// Every input type, in a fixed order (the keystate tests give each its own slot).
pub const TYPES: [DataType; 7] = [
    DataType::Int64,
    DataType::Float64,
    DataType::String,
    DataType::Bool,
    DataType::Timestamp,
    DataType::Date,
    // Two digits after the point, up to 38 digits: sums overflow with two inputs.
    DataType::Decimal {
        precision: 38,
        scale: 2,
    },
];

/// Every accepted (aggregation, input type) pair; `count(*)` has no input.
pub fn cases() -> Vec<(AggKind, Option<DataType>)> {
    use AggKind::*;
    let mut out = vec![(CountStar, None)];
    for agg in [
        Count,
        CountIf,
        CountDistinct,
        Sum,
        Avg,
        Min,
        Max,
        VarPop,
        StddevPop,
        First,
        Last,
        Percentile(Quantile::MEDIAN),
        Percentile(Quantile::from_decimal("0").expect("p")),
        Percentile(Quantile::from_decimal("0.9").expect("p")),
        Percentile(Quantile::from_decimal("1").expect("p")),
        LastK(1),
        LastK(3),
        FirstK(1),
        FirstK(4),
        TopK(1),
        TopK(3),
    ] {
        for t in TYPES {
            if agg.result_type(Some(t)).is_some() {
                out.push((agg, Some(t)));
            }
        }
    }
    out
}
