//! A spine held in memory in batches of uneven sizes, more of them than partitions
//! and more rows than a batch: the training set keeps the spine's order (DataFusion
//! re-deals such an in-memory table largest batch first unless the spine's table
//! prevents it, `io::Spine::provider`).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::compute::concat_batches;
use datafusion::datasource::provider_as_source;
use datafusion::prelude::SessionConfig;
use featc_runtime::{batch, io};
use featc_test_support::compare::compare_tolerant;
use featc_test_support::parquet::read_parquet;
use featc_test_support::project::compile_dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uneven_spine_batches_keep_their_order() {
    let dir = featc_test_support::paths::cases_dir().join("synthetic");
    let project = compile_dir(&dir);
    let features = project.all_features();
    let spine = read_parquet(&dir.join("spine.parquet"));
    let spine = io::Spine {
        schema: spine.schema(),
        batches: vec![
            spine.slice(0, 7),
            spine.slice(7, 2000),
            spine.slice(2007, 993),
        ],
    };
    let config = SessionConfig::new()
        .with_target_partitions(3)
        .with_batch_size(100);
    let ctx = batch::session_context(config);
    let plan = featc::lower::groups::plan_groups(&project, &features).unwrap();
    let tables = io::bind_sources(&ctx, &project, &plan, &HashMap::new().into())
        .await
        .unwrap();
    let table_of = |s: &featc::ir::Source| provider_as_source(Arc::clone(&tables[&s.name]));
    let logical = featc::lower::batch::lower_plan(
        &project,
        plan,
        &table_of,
        provider_as_source(spine.provider().unwrap()),
        "ts",
    )
    .unwrap();
    let (_, stream) = batch::execute(&ctx, logical).await.unwrap();
    let schema = stream.schema();
    let batches = datafusion::physical_plan::common::collect(stream)
        .await
        .unwrap();
    let actual = concat_batches(&schema, &batches).unwrap();
    let expected = read_parquet(&dir.join("expected.parquet"));
    if let Err(diff) = compare_tolerant(&actual, &expected) {
        panic!("{diff}");
    }
}
