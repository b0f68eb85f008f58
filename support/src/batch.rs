//! The batch path through the libraries: the same steps as `featc training-set`, on
//! files or on in-memory tables.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::datasource::provider_as_source;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use featc::ir::{FeatureId, Project};
use featc_runtime::batch;
use featc_runtime::io::{read_spine, Spine};

use crate::parquet::read_parquet;

/// A session's configuration: `batch_size` rows per batch (DataFusion's default when
/// None); partitions and passes from the batch size, so that the tests that vary one
/// vary all three (partitions 1 to 4: the merges run one per partition; passes 1 to 3:
/// the merges run pass after pass, each over a share of the keys; the answer must not
/// change).
pub fn config(batch_size: Option<usize>) -> SessionConfig {
    let partitions = batch_size.map_or(2, |n| 1 + n % 4);
    let passes = batch_size.map_or(1, |n| 1 + (n / 2) % 3);
    let config = SessionConfig::new()
        .with_target_partitions(partitions)
        .with_extension(std::sync::Arc::new(
            featc_runtime::batch::resources::Passes(passes),
        ));
    match batch_size {
        Some(n) => config.with_batch_size(n),
        None => config,
    }
}

/// The whole pipeline on files: bind sources (declared locations unless overridden),
/// read the spine, lower, execute, collect.
pub async fn training_set(
    project: &Project,
    features: &[FeatureId],
    source_paths: &HashMap<String, PathBuf>,
    spine_path: &Path,
    spine_time: &str,
    batch_size: Option<usize>,
) -> Result<RecordBatch, String> {
    let ctx = batch::session_context(config(batch_size));
    let keys = featc_runtime::io::spine_keys(project, features);
    let spine = read_spine(spine_path, &keys, spine_time)
        .await
        .map_err(|e| e.to_string())?;
    training_set_in(&ctx, project, features, source_paths, &spine, spine_time)
        .await
        .map(|(_, batch)| batch)
}

/// The pipeline in a session of the caller's (its partitions, batch size, options):
/// bind the sources (declared locations unless in `source_paths`), lower, execute,
/// collect; with the physical plan it ran, whose metrics the run has left.
pub async fn training_set_in(
    ctx: &SessionContext,
    project: &Project,
    features: &[FeatureId],
    source_paths: &HashMap<String, PathBuf>,
    spine: &Spine,
    spine_time: &str,
) -> Result<(Arc<dyn ExecutionPlan>, RecordBatch), String> {
    let plan = featc::lower::groups::plan_groups(project, features).map_err(|e| e.to_string())?;
    let tables = featc_runtime::io::bind_sources(ctx, project, &plan, &source_paths.clone().into())
        .await
        .map_err(|e| e.to_string())?;
    run_plan(ctx, project, features, &tables, spine, spine_time).await
}

/// The pipeline on in-memory data: each source is a table of `events[source]`
/// (split into batches of `batch_size` rows), the spine a batch.
pub async fn training_set_in_memory(
    project: &Project,
    features: &[FeatureId],
    events: &HashMap<String, RecordBatch>,
    spine: &RecordBatch,
    batch_size: usize,
) -> Result<RecordBatch, String> {
    let ctx = batch::session_context(config(Some(batch_size)));
    let mut tables: HashMap<String, Arc<dyn TableProvider>> = HashMap::new();
    for (name, batch) in events {
        tables.insert(name.clone(), memory_table(batch, batch_size)?);
    }
    let spine = Spine {
        schema: spine.schema(),
        batches: vec![spine.clone()],
    };
    run_plan(&ctx, project, features, &tables, &spine, "ts")
        .await
        .map(|(_, batch)| batch)
}

/// A source's events as a table of `rows`-row batches, in two partitions so that
/// they arrive interleaved from two streams.
pub fn memory_table(batch: &RecordBatch, rows: usize) -> Result<Arc<dyn TableProvider>, String> {
    let parts: Vec<RecordBatch> = (0..batch.num_rows())
        .step_by(rows)
        .map(|o| batch.slice(o, rows.min(batch.num_rows() - o)))
        .collect();
    let (a, b) = parts.split_at(parts.len() / 2);
    let table = MemTable::try_new(batch.schema(), vec![a.to_vec(), b.to_vec()])
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(table))
}

async fn run_plan(
    ctx: &SessionContext,
    project: &Project,
    features: &[FeatureId],
    tables: &HashMap<String, Arc<dyn TableProvider>>,
    spine: &Spine,
    spine_time: &str,
) -> Result<(Arc<dyn ExecutionPlan>, RecordBatch), String> {
    let spine_table = spine.provider().map_err(|e| e.to_string())?;
    let table_of = |s: &featc::ir::Source| provider_as_source(Arc::clone(&tables[&s.name]));
    let plan = featc::lower::batch::lower_batch(
        project,
        features,
        &table_of,
        provider_as_source(spine_table),
        spine_time,
    )
    .map_err(|e| e.to_string())?;
    let (physical, stream) = batch::execute(ctx, plan).await.map_err(|e| e.to_string())?;
    let schema = stream.schema();
    let batches = datafusion::physical_plan::common::collect(stream)
        .await
        .map_err(|e| e.to_string())?;
    let batch = concat_batches(&schema, &batches).map_err(|e| e.to_string())?;
    Ok((physical, batch))
}

/// Each source of a case's project, from the file it declares (in `dir`), read as it
/// is stored (no conversion on the way), by source name.
pub fn read_case_sources(project: &Project, dir: &Path) -> HashMap<String, Vec<RecordBatch>> {
    project
        .sources
        .iter()
        .map(|s| {
            let location = s
                .location
                .as_deref()
                .expect("the case's sources declare a file");
            (s.name.clone(), vec![read_parquet(&dir.join(location))])
        })
        .collect()
}
