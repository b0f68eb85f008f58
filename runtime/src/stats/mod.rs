//! Feature statistics and drift over tables of feature values (`featc stats`, `featc
//! drift`, docs/stats.md): per-column accumulators fed batch by batch, their finished
//! statistics (plain serde data, the JSON a team stores as a drift baseline), the
//! population stability index and the Kolmogorov–Smirnov statistic, and the text
//! tables. Pure computation: the tables are read by `crate::io::table`.

mod categorical;
mod column;
mod drift;
mod error;
mod ks;
mod numeric;
mod profile;
mod psi;
mod quantile;
mod render;
mod types;

pub use column::{kind_of, Kind, NoStatistics};
pub use drift::{compare, DriftReport, FeatureDrift, Thresholds};
pub use error::StatsError;
pub use ks::ks_statistic;
pub use profile::{
    ColumnSelection, Profile, Profiler, Sample, APPLIED_SEQ_COLUMN, APPLYING_SEQ_COLUMN, CLOCK_KEY,
    FEATURES_KEY, HELD_FROM_PREFIX, MEANINGS_KEY, READ_TIME_COLUMN, SERVED_AT_COLUMN,
    STATUS_SUFFIX, WATERMARK_PREFIX,
};
pub use psi::{psi, PSI_EPSILON};
pub use quantile::{nearest_rank, QUANTILES};
pub use render::{render_drift, render_stats};
pub use types::{
    Bins, CategoricalStats, FeatureStats, Num, NumericStats, QuantileValue, Skipped, TableStats,
    ValueCount,
};
