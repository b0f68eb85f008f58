//! A small in-memory dataset for a checked project: a few rows per source the
//! features read, built from the declared columns (with nulls, equal timestamps and
//! a few edge values), and a spine of the entity keys asking at times on the same
//! grid. Drawn from a seed, so that a proptest case replays the same data.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc::ir::{FeatureId, Project};
use featc_runtime::io::{declared_schema, sources_of, spine_keys};
use featc_runtime::row::types::{arrow_type, timestamp_type};
use featc_test_support::rng::SplitMix64;

/// Sources with more columns than this do not fit the small dataset (a mutant that
/// duplicated a column list is tested by the stages before the data).
const MAX_COLUMNS: usize = 64;

/// 2024-03-01T00:00:00Z in microseconds.
const BASE_US: i64 = 1_709_251_200_000_000;
const SECOND_US: i64 = 1_000_000;

/// Event times, in seconds after `BASE_US`: repeats make equal timestamps, and the
/// rest sit at or next to the window lengths the seeds use.
const EVENT_OFFSETS: &[i64] = &[0, 0, 1, 59, 60, 3_599, 3_600, 86_400, 604_800, 2_592_000];
/// Spine times: the same grid, one past it, and long after.
const SPINE_OFFSETS: &[i64] = &[
    0, 1, 60, 3_600, 3_601, 86_400, 86_401, 604_800, 2_592_000, 2_592_001, 99_999_999,
];

/// What a case computes: the events of every source the features read, the spine,
/// and how the two executors cut the events into batches.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub sources: Vec<(String, RecordBatch)>,
    pub spine: RecordBatch,
    /// Rows per DataFusion batch on the batch path.
    pub batch_rows: usize,
    /// Events per `ingest` call of the replay.
    pub ingest_rows: usize,
    pub fold_run: u32,
}

/// The fuzzer's draws, from SplitMix64 (small and deterministic).
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64::new(seed))
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// Mostly a common value (keys that meet), sometimes an edge one.
    fn mostly<T: Clone>(&mut self, common: &[T], edges: &[T]) -> T {
        if self.chance(12) {
            self.pick(edges)
        } else {
            self.pick(common)
        }
    }
}

const INTS: &[i64] = &[1, 2, 3];
const INT_EDGES: &[i64] = &[0, -1, i64::MAX, i64::MIN, 1 << 53];
const FLOATS: &[f64] = &[0.5, 1.5, -2.25, 10.0, 100.0];
const FLOAT_EDGES: &[f64] = &[0.0, -0.0, 1e308, -1e308, f64::INFINITY, f64::NAN, 5e-324];
const STRINGS: &[&str] = &["a", "b", "grocery"];
const STRING_EDGES: &[&str] = &["", "é🙂", "\u{1b}[0m", "cancelled", "x\u{0}y"];

/// One column of `rows` values of Arrow type `ty`; `times` gives the event times
/// when the column is the time column.
fn column(
    rng: &mut Rng,
    field: &Field,
    rows: usize,
    times: Option<&[i64]>,
    null_percent: usize,
) -> Result<ArrayRef, String> {
    let nullable = field.is_nullable() && times.is_none();
    let present = |rng: &mut Rng| !(nullable && rng.chance(null_percent));
    let array: ArrayRef = match field.data_type() {
        DataType::Int64 => Arc::new(Int64Array::from(
            (0..rows)
                .map(|_| present(rng).then(|| rng.mostly(INTS, INT_EDGES)))
                .collect::<Vec<_>>(),
        )),
        DataType::Float64 => Arc::new(Float64Array::from(
            (0..rows)
                .map(|_| present(rng).then(|| rng.mostly(FLOATS, FLOAT_EDGES)))
                .collect::<Vec<_>>(),
        )),
        DataType::Utf8 => Arc::new(StringArray::from(
            (0..rows)
                .map(|_| present(rng).then(|| rng.mostly(STRINGS, STRING_EDGES)))
                .collect::<Vec<_>>(),
        )),
        DataType::Boolean => Arc::new(BooleanArray::from(
            (0..rows)
                .map(|_| present(rng).then(|| rng.chance(50)))
                .collect::<Vec<_>>(),
        )),
        DataType::Timestamp(TimeUnit::Microsecond, tz) => {
            let values: Vec<Option<i64>> = match times {
                Some(t) => t.iter().copied().map(Some).collect(),
                None => (0..rows)
                    .map(|_| {
                        present(rng)
                            .then(|| BASE_US + rng.mostly(EVENT_OFFSETS, &[-1, 0]) * SECOND_US)
                    })
                    .collect(),
            };
            Arc::new(TimestampMicrosecondArray::from(values).with_timezone_opt(tz.clone()))
        }
        other => return Err(format!("no generator for a column of type {other}")),
    };
    Ok(array)
}

/// The events of one source: `rows` rows of its declared schema.
fn events(rng: &mut Rng, schema: Arc<Schema>, rows: usize) -> Result<RecordBatch, String> {
    let times: Vec<i64> = (0..rows)
        .map(|_| BASE_US + rng.pick(EVENT_OFFSETS) * SECOND_US)
        .collect();
    let columns = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| column(rng, f, rows, (i == 0).then_some(&times[..]), 20))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema, columns).map_err(|e| e.to_string())
}

/// The dataset of `features`, or why the project does not fit one.
pub fn dataset(project: &Project, features: &[FeatureId], seed: u64) -> Result<Dataset, String> {
    if features.is_empty() {
        return Err("no features".into());
    }
    let mut rng = Rng::new(seed);
    let mut sources = Vec::new();
    for source in sources_of(project, features) {
        if source.columns.len() > MAX_COLUMNS {
            return Err(format!("source `{}` has too many columns", source.name));
        }
        let rows = rng.pick(&[0, 1, 3, 6, 6, 10, 10]);
        let batch = events(&mut rng, declared_schema(source), rows)?;
        sources.push((source.name.clone(), batch));
    }
    let keys = spine_keys(project, features);
    if keys.iter().any(|(name, _)| name == "ts") {
        return Err("an entity key is named like the spine's time column".into());
    }
    let mut fields: Vec<Field> = keys
        .iter()
        .map(|(name, ty)| Field::new(name, arrow_type(*ty), true))
        .collect();
    fields.push(Field::new("ts", timestamp_type(), false));
    let rows = rng.pick(&[1, 3, 6, 8]);
    let times: Vec<i64> = (0..rows)
        .map(|_| BASE_US + rng.pick(SPINE_OFFSETS) * SECOND_US)
        .collect();
    let last = fields.len() - 1;
    let columns = fields
        .iter()
        .enumerate()
        .map(|(i, f)| column(&mut rng, f, rows, (i == last).then_some(&times[..]), 8))
        .collect::<Result<Vec<_>, _>>()?;
    let spine =
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())?;
    Ok(Dataset {
        sources,
        spine,
        batch_rows: rng.pick(&[1, 2, 8192]),
        ingest_rows: rng.pick(&[1, 3, 1024]),
        fold_run: rng.pick(&[1, 2, 16, featc_runtime::stream::DEFAULT_FOLD_RUN]),
    })
}

impl Dataset {
    /// The tables as text, with the batch and ingest sizes.
    pub fn describe(&self) -> String {
        use datafusion::arrow::util::pretty::pretty_format_batches;
        let table = |b: &RecordBatch| {
            pretty_format_batches(std::slice::from_ref(b))
                .map(|t| t.to_string())
                .unwrap_or_else(|e| e.to_string())
        };
        let mut out = format!(
            "batch rows {}, ingest rows {}, fold run {}\n",
            self.batch_rows, self.ingest_rows, self.fold_run
        );
        for (name, events) in &self.sources {
            out.push_str(&format!("source {name}:\n{}\n", table(events)));
        }
        out.push_str(&format!("spine:\n{}", table(&self.spine)));
        out
    }
}
