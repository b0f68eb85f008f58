//! Loading the sources' history into a streaming runtime, with progress: what `featc
//! serve --bootstrap` and `featc materialize` share. Each source's history comes
//! grouped by the entity of the first view group that reads it, each entity's events
//! in event-time order: a history has no late event (`StreamRuntime::
//! ingest_history`), so its order is free, and this one visits each entity's state
//! once per run of its events instead of once per event (on a disk tier, one load
//! and one write back per entity instead of one per event).

use std::collections::HashMap;
use std::path::PathBuf;

use datafusion::arrow::array::{AsArray, BooleanArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::{ident, SessionConfig};
use featc::ir::{DataType, Project};
use featc_runtime::plan::Plan;
use featc_runtime::row::conform;
use featc_runtime::stream::StreamGraph;
use featc_runtime::{batch, io};
use futures::StreamExt;

use super::progress::Progress;

/// Where history goes, batch by batch.
pub trait HistorySink {
    /// Called once, before the first batch, with how many events will come.
    fn total(&mut self, events: u64);
    fn take(&mut self, source: &str, batch: &RecordBatch) -> Result<(), String>;
}

/// What a load of history reads, and within what.
pub struct History<'a> {
    pub project: &'a Project,
    pub plan: &'a Plan,
    pub graph: &'a StreamGraph,
    /// Each source's `--source` binding (else its declared file).
    pub paths: &'a HashMap<String, PathBuf>,
    /// Only the events with `ts <= upto`, when given.
    pub upto: Option<i64>,
    /// The sort spills past this many bytes, or past the training set's default
    /// share of memory when that is smaller or this is `None`.
    pub sort_memory: Option<u64>,
}

/// Reads every source `history.graph` reads, each grouped by entity (see the module
/// docs), into `sink`. Returns how many events were loaded.
pub async fn load_history(
    history: &History<'_>,
    progress: &Progress,
    sink: &mut dyn HistorySink,
) -> Result<u64, String> {
    let History {
        project,
        plan,
        graph,
        paths,
        upto,
        sort_memory,
    } = *history;
    // A history can be far larger than memory, so its sort spills. Its last run
    // stays in memory and is handed out while the state grows from it: the two
    // overlap, which is why a caller whose state has a budget gives the sort a
    // share of it.
    let default = batch::Resources::default().memory_limit();
    let resources = batch::Resources {
        memory_limit: Some(sort_memory.map_or(default, |m| default.min(m as usize))),
        ..Default::default()
    };
    let ctx = batch::bounded_session_context(SessionConfig::new(), &resources)
        .map_err(super::engine_error)?;
    let inputs = io::Inputs::from(paths.clone());
    let tables = io::bind_sources(&ctx, project, plan, &inputs)
        .await
        .map_err(|e| e.to_string())?;
    let failed = |e: datafusion::error::DataFusionError| {
        io::explain_failure(project, plan, &inputs, e).to_string()
    };
    let mut sources = Vec::new();
    let mut total = 0u64;
    for (id, op) in graph.sources() {
        let Some(table) = tables.get(&op.name) else {
            continue;
        };
        let frame = ctx.read_table(table.clone()).map_err(super::engine_error)?;
        let rows = frame.clone().count().await.map_err(failed)?;
        total += rows as u64;
        let keys: Vec<String> = graph
            .aggregates()
            // A group over several sources reads this one too, by the same key
            // columns, when it is a later member of its union.
            .find(|(_, a)| a.source == id || a.plan.reads_source(&op.name))
            .map(|(_, a)| a.plan.keys.iter().map(|k| k.column.clone()).collect())
            .unwrap_or_default();
        let order = keys
            .iter()
            .chain(std::iter::once(&op.time_column))
            .map(|c| ident(c).sort(true, false))
            .collect();
        sources.push((op.name.clone(), op.time_column.clone(), frame, order));
    }
    sink.total(total);
    let mut done = 0u64;
    let mut loaded = 0u64;
    for (name, time, frame, order) in sources {
        progress.phase(&format!("loading the history of source `{name}`"));
        let mut stream = frame
            .sort(order)
            .map_err(super::engine_error)?
            .execute_stream()
            .await
            .map_err(failed)?;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(failed)?;
            done += batch.num_rows() as u64;
            let batch = match upto {
                Some(t) => at_or_before(&batch, &time, t)?,
                None => batch,
            };
            if batch.num_rows() > 0 {
                sink.take(&name, &batch)?;
                loaded += batch.num_rows() as u64;
            }
            progress.advance(done, total, "events");
        }
    }
    progress.finish();
    Ok(loaded)
}

/// The rows of `batch` whose `time` is at or before `t`.
fn at_or_before(batch: &RecordBatch, time: &str, t: i64) -> Result<RecordBatch, String> {
    let column = batch
        .column_by_name(time)
        .ok_or_else(|| format!("internal error: no time column `{time}`"))?;
    let times = conform(column, DataType::Timestamp, time)
        .map_err(|e| format!("column `{}`: {}", e.column, e.message))?;
    let keep: BooleanArray = times
        .as_primitive::<TimestampMicrosecondType>()
        .iter()
        .map(|ts| Some(ts.is_some_and(|ts| ts <= t)))
        .collect();
    filter_record_batch(batch, &keep).map_err(|e| e.to_string())
}
