//! The reference interpreter on the public acceptance cases: it reproduces
//! `expected.parquet` (floats to 1e-9 relative) and equals the batch path's training
//! set bit for bit.

use std::collections::HashMap;

use featc_runtime::reference::{evaluate, SpineInput};

use featc_test_support::batch::read_case_sources;
use featc_test_support::batch::training_set;
use featc_test_support::compare::bit_equal;
use featc_test_support::compare::compare_tolerant;
use featc_test_support::parquet::read_parquet;
use featc_test_support::project::compile_dir;

async fn check_case(case: &str) {
    let dir = featc_test_support::paths::cases_dir().join(case);
    let project = compile_dir(&dir);
    let features = project.all_features();
    let spine = read_parquet(&dir.join("spine.parquet"));
    let sources = read_case_sources(&project, &dir);
    let actual = evaluate(
        &project,
        &features,
        &sources,
        SpineInput {
            batches: &[spine],
            time_column: "ts",
        },
    )
    .unwrap_or_else(|e| panic!("{case}: reference: {e}"));
    let expected = read_parquet(&dir.join("expected.parquet"));
    if let Err(diff) = compare_tolerant(&actual, &expected) {
        panic!("{case}: reference vs expected: {diff}");
    }
    let batch = training_set(
        &project,
        &features,
        &HashMap::new(),
        &dir.join("spine.parquet"),
        "ts",
        None,
    )
    .await
    .unwrap_or_else(|e| panic!("{case}: batch: {e}"));
    if let Err(diff) = bit_equal(&batch, &actual) {
        panic!("{case}: batch vs reference: {diff}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_reproduces_synthetic_and_equals_batch() {
    check_case("synthetic").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_reproduces_marketplace_and_equals_batch() {
    check_case("marketplace").await;
}
