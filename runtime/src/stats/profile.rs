//! A table's profile: its columns' accumulators fed batch by batch (`Profiler`), and
//! what they finish as (`Profile`: the statistics, plus the values drift compares).

use std::collections::HashMap;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Float64Type, Int64Type, Schema};

use super::categorical::CategoricalAcc;
use super::column::{convert, kind_of, Kind};
use super::numeric::NumericAcc;
use super::types::{FeatureStats, Skipped, TableStats};
use super::StatsError;

/// The schema metadata key under which a table names its feature columns (a JSON
/// array of names; the served log writes it), so that its key and time columns are
/// not taken for features.
pub const FEATURES_KEY: &str = "featc.features";
/// The schema metadata key under which the served log records each feature's
/// meaning as `featc serve` knew it (a JSON object of name to fingerprint,
/// `featc::diff::fingerprint`), which `featc audit` compares with today's.
pub const MEANINGS_KEY: &str = "featc.meanings";
/// The served log's column of read times, of answer times by the wall clock, and
/// the suffix of a feature's status column (docs/stats.md, "The served log").
pub const READ_TIME_COLUMN: &str = "read_time";
pub const SERVED_AT_COLUMN: &str = "served_at";
pub const STATUS_SUFFIX: &str = "__status";
/// The prefix of the served log's column, per view whose events can wait for their
/// as-of lookups, of the time from which its events waited at the read.
pub const HELD_FROM_PREFIX: &str = "held_from.";
/// The served log's columns of how far into its write-ahead log a durable server's
/// state was at the read: every record below `applied_seq` counted, none at or
/// above `applying_seq` did (null without a state directory).
pub const APPLIED_SEQ_COLUMN: &str = "applied_seq";
pub const APPLYING_SEQ_COLUMN: &str = "applying_seq";
/// The prefix of the served log's column, per source, of its watermark at the read.
pub const WATERMARK_PREFIX: &str = "watermark.";
/// The schema metadata key under which the served log records the server's clock
/// (`wall` or `events`).
pub const CLOCK_KEY: &str = "featc.clock";

/// Which columns are features: `features` (in that order) when given, else those the
/// table names under `FEATURES_KEY`, else every column; minus the `exclude`d ones.
#[derive(Debug, Clone, Default)]
pub struct ColumnSelection {
    pub features: Option<Vec<String>>,
    pub exclude: Vec<String>,
}

/// What drift compares beyond the statistics: a numeric feature's sorted finite
/// values, a categorical feature's count of every value.
#[derive(Debug, Clone)]
pub enum Sample {
    Numeric(Vec<f64>),
    Categorical(HashMap<String, u64>),
}

/// A table's statistics and, when computed from the table itself (not read back from
/// a statistics file), each feature's sample.
#[derive(Debug, Clone)]
pub struct Profile {
    pub stats: TableStats,
    /// One per feature of `stats.features`, or empty.
    pub samples: Vec<Sample>,
}

impl Profile {
    /// A profile read back from statistics (a stored `featc stats --format json`).
    pub fn from_stats(stats: TableStats) -> Profile {
        Profile {
            stats,
            samples: Vec::new(),
        }
    }

    pub fn sample(&self, feature: usize) -> Option<&Sample> {
        self.samples.get(feature)
    }
}

enum Acc {
    Numeric(NumericAcc),
    Categorical(CategoricalAcc),
}

struct Column {
    index: usize,
    name: String,
    kind: Kind,
    non_null: u64,
    acc: Acc,
}

/// Accumulates a table's statistics batch by batch.
pub struct Profiler {
    table: String,
    rows: u64,
    columns: Vec<Column>,
    skipped: Vec<Skipped>,
}

impl Profiler {
    /// Chooses the feature columns of `schema` (`table` names it in errors); a column
    /// whose type has no statistics is skipped with the reason.
    pub fn new(
        table: &str,
        schema: &Schema,
        selection: &ColumnSelection,
    ) -> Result<Profiler, StatsError> {
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let named = selection
            .features
            .iter()
            .flatten()
            .chain(&selection.exclude);
        if let Some(missing) = named.into_iter().find(|n| !names.contains(n)) {
            return Err(StatsError::UnknownColumn {
                table: table.to_string(),
                column: missing.clone(),
                found: names,
            });
        }
        let declared: Option<Vec<String>> = schema
            .metadata()
            .get(FEATURES_KEY)
            .and_then(|json| serde_json::from_str(json).ok());
        let chosen: Vec<&String> = match (&selection.features, &declared) {
            (Some(list), _) => list.iter().collect(),
            (None, Some(list)) => list
                .iter()
                .filter(|n| names.contains(n) && !selection.exclude.contains(n))
                .collect(),
            (None, None) => names
                .iter()
                .filter(|n| !selection.exclude.contains(n))
                .collect(),
        };
        let mut columns = Vec::new();
        let mut skipped = Vec::new();
        for name in chosen {
            let Ok(index) = schema.index_of(name) else {
                continue;
            };
            let ty = schema.field(index).data_type();
            match kind_of(ty) {
                Ok(kind) => columns.push(Column {
                    index,
                    name: name.clone(),
                    kind,
                    non_null: 0,
                    acc: match kind {
                        Kind::Int => Acc::Numeric(NumericAcc::new(true)),
                        Kind::Float => Acc::Numeric(NumericAcc::new(false)),
                        Kind::String | Kind::Bool => Acc::Categorical(CategoricalAcc::default()),
                    },
                }),
                Err(reason) => skipped.push(Skipped {
                    column: name.clone(),
                    ty: ty.to_string(),
                    reason: reason.to_string(),
                }),
            }
        }
        Ok(Profiler {
            table: table.to_string(),
            rows: 0,
            columns,
            skipped,
        })
    }

    /// Adds a batch of the schema given to `new`.
    pub fn add(&mut self, batch: &RecordBatch) -> Result<(), StatsError> {
        self.rows += batch.num_rows() as u64;
        for c in &mut self.columns {
            let array = batch.column(c.index);
            c.non_null += (array.len() - array.null_count()) as u64;
            let array = convert(array, c.kind).map_err(|error| StatsError::Convert {
                table: self.table.clone(),
                column: c.name.clone(),
                error,
            })?;
            match (&mut c.acc, c.kind) {
                (Acc::Numeric(acc), Kind::Int) => acc.add_ints(array.as_primitive::<Int64Type>()),
                (Acc::Numeric(acc), _) => acc.add_floats(array.as_primitive::<Float64Type>()),
                (Acc::Categorical(acc), Kind::Bool) => acc.add_bools(array.as_boolean()),
                (Acc::Categorical(acc), _) => acc.add_strings(array.as_string::<i32>()),
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Profile {
        let rows = self.rows;
        let mut features = Vec::with_capacity(self.columns.len());
        let mut samples = Vec::with_capacity(self.columns.len());
        for c in self.columns {
            let mut f = FeatureStats {
                name: c.name,
                ty: c.kind.name().to_string(),
                rows,
                non_null: c.non_null,
                fill_rate: if rows == 0 {
                    0.0
                } else {
                    c.non_null as f64 / rows as f64
                },
                numeric: None,
                categorical: None,
            };
            match c.acc {
                Acc::Numeric(acc) => {
                    let (s, sorted) = acc.finish();
                    f.numeric = Some(s);
                    samples.push(Sample::Numeric(sorted));
                }
                Acc::Categorical(acc) => {
                    let (s, counts) = acc.finish();
                    f.categorical = Some(s);
                    samples.push(Sample::Categorical(counts));
                }
            }
            features.push(f);
        }
        Profile {
            stats: TableStats {
                table: self.table,
                rows,
                features,
                skipped: self.skipped,
            },
            samples,
        }
    }
}
