//! One Parquet file of two equal row groups, read by a training set in two
//! partitions: DataFusion cuts the file into two byte ranges, and its cut alone would
//! give both row groups to the first partition (the second row group starts before
//! the byte middle; a partition reads the row groups that start in its range).
//! `batch::row_group_ranges` moves the cut to the second row group's start: each
//! partition reads one row group, and the training set is the case's expected one.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::datasource::physical_plan::ParquetSource;
use datafusion::datasource::source::DataSourceExec;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;
use featc_runtime::{batch, io};
use featc_test_support::batch::training_set_in;
use featc_test_support::compare::compare_tolerant;
use featc_test_support::parquet::read_parquet;
use featc_test_support::project::compile_dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_partition_reads_one_of_two_equal_row_groups() {
    let case = featc_test_support::paths::cases_dir().join("synthetic");
    let project = compile_dir(&case);
    let features = project.all_features();
    let events = read_parquet(&case.join("events.parquet"));
    let dir = featc_test_support::scratch::fresh_dir(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("batch_split_scans"),
    );
    let path = dir.join("events.parquet");
    let half = events.num_rows().div_ceil(2);
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(half))
        .build();
    let mut writer = ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        events.schema(),
        Some(props),
    )
    .unwrap();
    writer.write(&events).unwrap();
    writer.close().unwrap();

    // Files this small are split only below DataFusion's default minimum (10 MiB).
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .set_usize("datafusion.optimizer.repartition_file_min_size", 0);
    let ctx = batch::session_context(config);
    let files = HashMap::from([("events".to_string(), path.clone())]);
    let spine = read_parquet(&case.join("spine.parquet"));
    let spine = io::Spine {
        schema: spine.schema(),
        batches: vec![spine],
    };
    let (physical, actual) = training_set_in(&ctx, &project, &features, &files, &spine, "ts")
        .await
        .unwrap();
    let expected = read_parquet(&case.join("expected.parquet"));
    if let Err(diff) = compare_tolerant(&actual, &expected) {
        panic!("{diff}");
    }

    let per_partition = rows_per_partition(&physical);
    assert_eq!(
        per_partition.len(),
        2,
        "the events are read in two partitions: {per_partition:?}"
    );
    assert_eq!(per_partition.iter().sum::<usize>(), events.num_rows());
    assert!(
        per_partition.iter().all(|&rows| rows > 0),
        "a partition read no event: {per_partition:?}"
    );
}

/// The rows each partition of the plan's one Parquet scan produced.
fn rows_per_partition(plan: &Arc<dyn ExecutionPlan>) -> Vec<usize> {
    let mut scans = Vec::new();
    find_parquet_scans(plan, &mut scans);
    assert_eq!(scans.len(), 1, "one Parquet scan, the events'");
    let scan = &scans[0];
    let metrics = scan.metrics().expect("the scan's metrics");
    let mut rows = vec![0; scan.properties().partitioning.partition_count()];
    for metric in metrics.iter() {
        if metric.value().name() == "output_rows" {
            if let Some(p) = metric.partition() {
                rows[p] += metric.value().as_usize();
            }
        }
    }
    rows
}

fn find_parquet_scans(plan: &Arc<dyn ExecutionPlan>, out: &mut Vec<Arc<dyn ExecutionPlan>>) {
    let any: &dyn std::any::Any = plan.as_ref();
    if any
        .downcast_ref::<DataSourceExec>()
        .and_then(|s| s.downcast_to_file_source::<ParquetSource>())
        .is_some()
    {
        out.push(Arc::clone(plan));
    }
    for child in plan.children() {
        find_parquet_scans(child, out);
    }
}
