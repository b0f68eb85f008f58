//! The batch path on in-memory tables, through the libraries: the steps of `featc
//! training-set` with each source a two-partition memory table and the spine a batch.

use std::sync::Arc;

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::builder::LogicalTableSource;
use datafusion::logical_expr::TableSource;
use datafusion::prelude::SessionConfig;
use featc::ir::{FeatureId, Project, Source};
use featc_runtime::batch;
use featc_runtime::io::{declared_schema, Spine};

use featc_test_support::batch::memory_table as table;
use featc_test_support::runtime::runtime;

use super::data::Dataset;

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
