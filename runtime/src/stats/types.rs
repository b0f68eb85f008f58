//! The finished statistics of a table: plain serde data. Their JSON is `featc stats
//! --format json`'s output and what `featc drift` reads back as a baseline, so field
//! names are part of the interface (docs/stats.md).

use serde::{Deserialize, Serialize};

/// The statistics of one table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableStats {
    /// The table as named on the command line.
    pub table: String,
    pub rows: u64,
    pub features: Vec<FeatureStats>,
    /// Columns left out because statistics are not defined for their type.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
}

/// A column left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub column: String,
    /// The column's Arrow type.
    #[serde(rename = "type")]
    pub ty: String,
    pub reason: String,
}

/// One feature's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStats {
    pub name: String,
    /// `int64`, `float64`, `string` or `bool`.
    #[serde(rename = "type")]
    pub ty: String,
    pub rows: u64,
    /// Rows whose value is not null (a NaN is a value).
    pub non_null: u64,
    /// `non_null / rows`; 0 for an empty table.
    pub fill_rate: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric: Option<NumericStats>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categorical: Option<CategoricalStats>,
}

/// A number of the column's type: an int64 column's statistics that are one of its
/// values (min, max, quantiles) stay integers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(x) => x,
        }
    }
}

/// A nearest-rank quantile of a profiled column and its value (`ir::Quantile` is a
/// `percentile` aggregation's parameter).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuantileValue {
    /// In percent: 1, 5, 25, 50, 75, 95, 99.
    pub p: u32,
    pub value: Num,
}

/// The statistics of a numeric feature, over its finite values (NaN and ±inf are
/// counted, not included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericStats {
    /// Finite values: what min, max, mean, stddev and the quantiles are over.
    pub finite: u64,
    pub nan: u64,
    pub pos_inf: u64,
    pub neg_inf: u64,
    pub min: Option<Num>,
    pub max: Option<Num>,
    /// The exact sum divided by `finite`, correctly rounded.
    pub mean: Option<f64>,
    /// The population standard deviation from exact sums, correctly rounded.
    pub stddev: Option<f64>,
    pub quantiles: Vec<QuantileValue>,
    /// The PSI bins of a baseline: `edges` are the distinct deciles (p10..p90), bin
    /// `i` holds the non-NaN values `v` with `edges[i-1] < v <= edges[i]` (the first
    /// from -inf, the last to +inf), `counts[i]` how many.
    pub bins: Bins,
}

/// A numeric feature's PSI bins (see `NumericStats::bins`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bins {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

/// The statistics of a string or bool feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalStats {
    /// Distinct non-null values.
    pub distinct: u64,
    /// The most frequent values, at most 10, by count descending then value ascending.
    pub top: Vec<ValueCount>,
    /// Non-null values not among `top`.
    pub other: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueCount {
    pub value: String,
    pub count: u64,
}
