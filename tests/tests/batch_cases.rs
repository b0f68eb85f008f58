//! The public acceptance cases through the batch pipeline (library and binary):
//! the training set equals `expected.parquet` (floats to 1e-9 relative), whatever the
//! DataFusion batch size.

use std::collections::HashMap;
use std::path::PathBuf;

use featc_test_support::batch::training_set;
use featc_test_support::compare::compare_tolerant;
use featc_test_support::parquet::read_parquet;
use featc_test_support::project::compile_dir;

fn case_dir(case: &str) -> PathBuf {
    featc_test_support::paths::cases_dir().join(case)
}

async fn check_case(case: &str, batch_size: Option<usize>) {
    let dir = case_dir(case);
    let project = compile_dir(&dir);
    let features = project.all_features();
    let actual = training_set(
        &project,
        &features,
        &HashMap::new(),
        &dir.join("spine.parquet"),
        "ts",
        batch_size,
    )
    .await
    .unwrap_or_else(|e| panic!("{case}: {e}"));
    let expected = read_parquet(&dir.join("expected.parquet"));
    if let Err(diff) = compare_tolerant(&actual, &expected) {
        panic!("{case} (batch size {batch_size:?}): {diff}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_matches_expected() {
    for size in [None, Some(7), Some(2)] {
        check_case("synthetic", size).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marketplace_matches_expected() {
    for size in [None, Some(7), Some(2)] {
        check_case("marketplace", size).await;
    }
}
