//! A spine held in memory in batches of uneven sizes, more of them than partitions
//! and more rows than a batch: the training set keeps the spine's order (DataFusion
//! re-deals such an in-memory table largest batch first unless the spine's table
//! prevents it, `io::Spine::provider`).

use std::collections::HashMap;

use datafusion::prelude::SessionConfig;
use featc_runtime::{batch, io};
use featc_test_support::batch::training_set_in;
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
    let (_, actual) = training_set_in(&ctx, &project, &features, &HashMap::new(), &spine, "ts")
        .await
        .unwrap();
    let expected = read_parquet(&dir.join("expected.parquet"));
    if let Err(diff) = compare_tolerant(&actual, &expected) {
        panic!("{diff}");
    }
}
