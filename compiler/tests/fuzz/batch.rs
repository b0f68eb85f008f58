//! The batch path on in-memory tables, through the libraries: the steps of `featc
//! training-set` with each source a two-partition memory table and the spine a batch.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::builder::LogicalTableSource;
use datafusion::logical_expr::TableSource;
use datafusion::prelude::SessionConfig;
use featc::ir::{FeatureId, Project, Source};
use featc_runtime::batch;
use featc_runtime::io::{declared_schema, Spine};

use super::data::Dataset;

/// One IO runtime for the process, as the CLI has one per command.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// A source's events as a table of `rows`-row batches, in two partitions so that
/// they arrive interleaved from two streams.
fn table(batch: &RecordBatch, rows: usize) -> Result<Arc<dyn TableProvider>, String> {
    let parts: Vec<RecordBatch> = (0..batch.num_rows())
        .step_by(rows)
        .map(|o| batch.slice(o, rows.min(batch.num_rows() - o)))
        .collect();
    let (a, b) = parts.split_at(parts.len() / 2);
    let table = MemTable::try_new(batch.schema(), vec![a.to_vec(), b.to_vec()])
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(table))
}

/// The training set of `features` on `data`.
pub fn training_set(
    project: &Project,
    features: &[FeatureId],
    data: &Dataset,
) -> Result<RecordBatch, String> {
    runtime().block_on(async {
        let ctx = batch::session_context(SessionConfig::new().with_batch_size(data.batch_rows));
        let mut tables = Vec::new();
        for (name, events) in &data.sources {
            tables.push((name.clone(), table(events, data.batch_rows)?));
        }
        let table_of = |s: &Source| -> Arc<dyn TableSource> {
            match tables.iter().find(|(n, _)| n == &s.name) {
                Some((_, t)) => provider_as_source(Arc::clone(t)),
                None => Arc::new(LogicalTableSource::new(declared_schema(s))),
            }
        };
        let spine = Spine {
            schema: data.spine.schema(),
            batches: vec![data.spine.clone()],
        };
        let spine_table = spine.provider().map_err(|e| e.to_string())?;
        let plan = featc::lower::batch::lower_batch(
            project,
            features,
            &table_of,
            provider_as_source(spine_table),
            "ts",
        )
        .map_err(|e| e.to_string())?;
        let (_, stream) = batch::execute(&ctx, plan)
            .await
            .map_err(|e| e.strip_backtrace())?;
        let schema = stream.schema();
        let batches = datafusion::physical_plan::common::collect(stream)
            .await
            .map_err(|e| e.strip_backtrace())?;
        concat_batches(&schema, &batches).map_err(|e| e.to_string())
    })
}
