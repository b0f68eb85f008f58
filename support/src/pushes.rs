//! A project's source events as a client would push them to `featc serve` (the
//! server's tests in process, the CLI's through the binary): read from the sources'
//! declared files as featc binds them, each row as JSON cells; push bodies of chosen
//! rows; and a seeded arrival order with bounded disorder.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionConfig;
use featc_runtime::ir::DataType;
use featc_runtime::row::{conform, Cells};
use featc_runtime::stream::graph::SourceOp;
use featc_runtime::stream::StreamGraph;
use featc_runtime::value::Value;
use serde_json::Value as Json;

use crate::rng::mix;

/// A project's sources, each as (name, time column, declared (column, type) list,
/// rows as JSON cells with the time in µs).
pub struct Events {
    pub sources: Vec<SourceEvents>,
}

pub struct SourceEvents {
    pub name: String,
    pub time_column: String,
    pub columns: Vec<(String, DataType)>,
    /// Per row: time µs, then one JSON cell per declared column.
    pub rows: Vec<(i64, Vec<Json>)>,
}

impl SourceEvents {
    /// The distinct integer values of `column` (an entity's key), sorted.
    pub fn distinct_ints(&self, column: &str) -> Vec<i64> {
        let Some(at) = self.columns.iter().position(|(n, _)| n == column) else {
            panic!("source `{}` has no column `{column}`", self.name)
        };
        let mut values: Vec<i64> = self.rows.iter().filter_map(|r| r.1[at].as_i64()).collect();
        values.sort_unstable();
        values.dedup();
        values
    }
}

/// A time as a client would push it: RFC 3339 text, exact to the microsecond (an
/// integer would have to be 16-digit microseconds, and generated times lie near 1970).
pub fn time_json(us: i64) -> Json {
    Json::from(featc_runtime::row::time::iso8601(us))
}

/// One cell of a conformed column as the JSON a client would push.
pub fn cell_json(cells: &Cells<'_>, row: usize) -> Json {
    match cells.get(row) {
        Value::Null => Json::Null,
        Value::Int64(i) => Json::from(i),
        Value::Float64(f) if f.is_nan() => Json::from("NaN"),
        Value::Float64(f) if f.is_infinite() => {
            Json::from(if f > 0.0 { "Infinity" } else { "-Infinity" })
        }
        Value::Float64(f) => Json::from(f),
        Value::Bool(b) => Json::from(b),
        Value::String(s) => Json::from(&*s),
        Value::Timestamp(t) => time_json(t),
        Value::Date(d) => Json::from(featc_runtime::row::date::format_date(d)),
        // The exact text, as a string (semantics.md "Decimals").
        Value::Decimal {
            unscaled, scale, ..
        } => Json::from(featc_runtime::row::decimal::format_decimal(
            unscaled.get(),
            scale,
        )),
        Value::List(_) => panic!("a source column never holds a list"),
    }
}

/// Every source of `project` read whole, in file order, the way featc binds it.
async fn read_sources(project: &featc::ir::Project) -> Vec<(String, RecordBatch)> {
    let features = project.all_features();
    let plan = featc::lower::groups::plan_groups(project, &features).expect("plan");
    let ctx = featc_runtime::batch::session_context(SessionConfig::new());
    let tables = featc_runtime::io::bind_sources(&ctx, project, &plan, &Default::default())
        .await
        .expect("bind the sources");
    let mut sources = Vec::new();
    for (name, table) in tables {
        let batches = ctx
            .read_table(table)
            .expect("read")
            .collect()
            .await
            .expect("collect");
        let schema = batches.first().expect("a batch").schema();
        let whole = datafusion::arrow::compute::concat_batches(&schema, &batches).expect("concat");
        sources.push((name, whole));
    }
    sources
}

/// The events of every source of `graph`, from the files `project` declares (in a
/// test without a runtime of its own: `runtime().block_on(events(..))`).
pub async fn events(project: &featc::ir::Project, graph: &StreamGraph) -> Events {
    let read = read_sources(project).await;
    let mut sources = Vec::new();
    for (_, op) in graph.sources() {
        let batch = &read
            .iter()
            .find(|(name, _)| *name == op.name)
            .expect("a bound source")
            .1;
        sources.push(source_events(op, batch));
    }
    Events { sources }
}

/// A push body of `rows` (indices into `source.rows`).
pub fn push_body(source: &SourceEvents, rows: &[usize]) -> Json {
    let mut df = serde_json::Map::new();
    df.insert(
        source.time_column.clone(),
        Json::from(
            rows.iter()
                .map(|&r| time_json(source.rows[r].0))
                .collect::<Vec<_>>(),
        ),
    );
    for (c, (name, _)) in source.columns.iter().enumerate() {
        df.insert(
            name.clone(),
            Json::from(
                rows.iter()
                    .map(|&r| source.rows[r].1[c].clone())
                    .collect::<Vec<_>>(),
            ),
        );
    }
    serde_json::json!({"push_source_name": source.name, "df": df, "to": "online"})
}

/// Every event of every source, (source index, row index), in arrival order: by
/// `ts + jitter` with a seeded jitter in `[0, disorder)`.
pub fn arrival(events: &Events, disorder_us: i64, seed: u64) -> Vec<(usize, usize, i64)> {
    let mut all = Vec::new();
    for (s, src) in events.sources.iter().enumerate() {
        for (r, (ts, _)) in src.rows.iter().enumerate() {
            let jitter = if disorder_us > 0 {
                (mix(seed ^ ((s as u64) << 40) ^ r as u64) % disorder_us as u64) as i64
            } else {
                0
            };
            all.push((s, r, ts.saturating_add(jitter)));
        }
    }
    all.sort_by_key(|&(s, r, key)| (key, s, r));
    all
}

/// One source's rows of `batch` (its columns by name) as the events a client pushes:
/// the declared columns conformed to their types, each cell as JSON, the time in µs.
pub fn source_events(op: &SourceOp, batch: &RecordBatch) -> SourceEvents {
    let column = |name: &str, ty: DataType| {
        let array = batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("column {name}"));
        conform(array, ty, name).expect("conform")
    };
    let time = column(&op.time_column, DataType::Timestamp);
    let declared: Vec<_> = op.columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
    let arrays: Vec<_> = declared.iter().map(|(n, t)| column(n, *t)).collect();
    let time_cells = Cells::new(&time, DataType::Timestamp).expect("cells");
    let cells: Vec<_> = arrays
        .iter()
        .zip(&declared)
        .map(|(a, (_, t))| Cells::new(a, *t).expect("cells"))
        .collect();
    let rows = (0..batch.num_rows())
        .map(|r| {
            let ts = match time_cells.get(r) {
                Value::Timestamp(t) => t,
                other => panic!("time {other:?}"),
            };
            (ts, cells.iter().map(|c| cell_json(c, r)).collect())
        })
        .collect();
    SourceEvents {
        name: op.name.clone(),
        time_column: op.time_column.clone(),
        columns: declared,
        rows,
    }
}
