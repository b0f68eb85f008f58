//! The UDFs an Arroyo pipeline calls: the contract between the SQL (`UdfSpec::name`
//! is what it calls) and the generated crates (one crate per `UdfSpec`, named by
//! it, in `DIR/udfs/`).
//!
//! Aggregates (UDAFs: arroyo-udf-plugin passes a window's values as `Vec`s) exist
//! where Arroyo's own aggregate differs from featc's (semantics.md): float sums and
//! the finishes of avg/var_pop/stddev_pop from the exact sum rounded once, min/max
//! with featc's float order (NaN, -0.0), count_distinct with featc's equality,
//! first/last with featc's tie-breaks (ties on time by value), percentiles by
//! nearest rank at a quantile baked into the crate. Scalars exist where a row
//! expression differs: int64 arithmetic that overflows is an error in featc, not a
//! wrapped value.

use featc_runtime::ir::{DataType, Quantile};

/// What a UDF computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UdfKind {
    /// `sum` (float64: the exact sum rounded once; int64: an overflow is an error).
    Sum,
    Avg,
    VarPop,
    StddevPop,
    Min,
    Max,
    CountDistinct,
    /// Arguments: the event times (µs) and the values.
    First,
    /// Arguments: the event times (µs) and the values.
    Last,
    Percentile(Quantile),
    /// int64 `a + b`, failing on overflow.
    CheckedAdd,
    /// int64 `a - b`, failing on overflow.
    CheckedSub,
    /// int64 `a * b`, failing on overflow.
    CheckedMul,
    /// int64 `-a`, failing on overflow.
    CheckedNeg,
}

/// One UDF: what it computes, over which input type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UdfSpec {
    pub kind: UdfKind,
    pub input: DataType,
}

impl UdfSpec {
    /// The SQL function name and the crate's name: `featc_<kind>_<type>`, a
    /// percentile with its quantile (`featc_percentile_p1_2_float64`).
    pub fn name(&self) -> String {
        let kind = match self.kind {
            UdfKind::Sum => "sum".to_string(),
            UdfKind::Avg => "avg".into(),
            UdfKind::VarPop => "var_pop".into(),
            UdfKind::StddevPop => "stddev_pop".into(),
            UdfKind::Min => "min".into(),
            UdfKind::Max => "max".into(),
            UdfKind::CountDistinct => "count_distinct".into(),
            UdfKind::First => "first".into(),
            UdfKind::Last => "last".into(),
            UdfKind::Percentile(q) => format!("percentile_p{}_{}", q.num(), q.den()),
            UdfKind::CheckedAdd => "checked_add".into(),
            UdfKind::CheckedSub => "checked_sub".into(),
            UdfKind::CheckedMul => "checked_mul".into(),
            UdfKind::CheckedNeg => "checked_neg".into(),
        };
        format!("featc_{kind}_{}", self.input.name())
    }

    /// Whether it is an aggregate (a UDAF).
    pub fn is_aggregate(&self) -> bool {
        !matches!(
            self.kind,
            UdfKind::CheckedAdd | UdfKind::CheckedSub | UdfKind::CheckedMul | UdfKind::CheckedNeg
        )
    }
}
