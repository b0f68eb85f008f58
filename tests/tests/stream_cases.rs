//! The public acceptance cases through `featc replay` (its library half): the
//! streaming answers equal `expected.parquet` (floats to 1e-9 relative) and the batch
//! path's training set bit for bit, whatever the arrival disorder and batch size.

use std::collections::HashMap;

use featc_test_support::batch::training_set;
use featc_test_support::compare::bit_equal;
use featc_test_support::compare::compare_tolerant;
use featc_test_support::parquet::read_parquet;
use featc_test_support::project::compile_dir;
use featc_test_support::stream::load;
use featc_test_support::stream::replay_loaded;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

async fn check_case(case: &str) {
    let dir = featc_test_support::paths::cases_dir().join(case);
    let project = compile_dir(&dir);
    let spine = dir.join("spine.parquet");
    let batch = training_set(
        &project,
        &project.all_features(),
        &HashMap::new(),
        &spine,
        "ts",
        None,
    )
    .await
    .unwrap_or_else(|e| panic!("{case} batch: {e}"));
    let expected = read_parquet(&dir.join("expected.parquet"));
    let loaded = load(project, &spine).await;
    let settings = [
        (0, 1, 0, 1),
        (HOUR, 7, 1, 3),
        (DAY, 1000, 2, 16),
        (0, 1 << 20, 3, 16),
    ];
    for (disorder, batch_size, seed, fold_run) in settings {
        let streamed = replay_loaded(&loaded, disorder, batch_size, seed, fold_run);
        let setting =
            format!("{case}, disorder {disorder}us, batch size {batch_size}, fold run {fold_run}");
        if let Err(diff) = compare_tolerant(&streamed, &expected) {
            panic!("{setting}: stream vs expected: {diff}");
        }
        if let Err(diff) = bit_equal(&streamed, &batch) {
            panic!("{setting}: stream vs batch: {diff}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_replay_matches_expected_and_batch() {
    check_case("synthetic").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marketplace_replay_matches_expected_and_batch() {
    check_case("marketplace").await;
}
