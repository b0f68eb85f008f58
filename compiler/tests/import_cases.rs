//! `featc import-spec` on the public cases: the project it writes from `spec.json`
//! and the data's schemas compiles, its `spec` service computes exactly the case's
//! `expected.parquet`, and it is bit-identical to the hand-written project's output.

use std::collections::HashMap;
use std::fs::File;

use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use featc::import::{import_spec, parse_spec, SourceSchema, SERVICE};
use featc::SourceFile;
use featc_test_support::batch::training_set;
use featc_test_support::compare::bit_equal;
use featc_test_support::compare::compare_tolerant;
use featc_test_support::parquet::read_parquet;
use featc_test_support::project::compile;
use featc_test_support::project::compile_dir;

/// The imported project's text for a case, reading schemas like the CLI does.
fn imported(case: &str) -> String {
    let dir = featc_test_support::paths::cases_dir().join(case);
    let spec = parse_spec(&std::fs::read_to_string(dir.join("spec.json")).expect("spec.json"))
        .expect("spec parses");
    let mut names: Vec<String> = spec.iter().map(|f| f.source.clone()).collect();
    names.sort();
    names.dedup();
    let sources: Vec<SourceSchema> = names
        .into_iter()
        .map(|name| {
            let file = File::open(dir.join(format!("{name}.parquet"))).expect("source data");
            let schema = ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet")
                .schema()
                .as_ref()
                .clone();
            SourceSchema {
                file: format!("{name}.parquet"),
                name,
                schema,
            }
        })
        .collect();
    import_spec(&format!("tests/cases/{case}/spec.json"), &spec, &sources)
        .expect("the spec imports")
}

async fn check(case: &str) {
    let text = imported(case);
    insta::assert_snapshot!(format!("import_{case}"), text);
    let dir = featc_test_support::paths::cases_dir().join(case);
    // Named inside the case folder, so that `file "<source>.parquet"` resolves there.
    let project = compile(&[SourceFile {
        name: dir.join("imported.feat").display().to_string(),
        text,
    }]);
    let service = project
        .services
        .iter()
        .find(|s| s.name == SERVICE)
        .expect("the spec service");
    let spine = dir.join("spine.parquet");
    let actual = training_set(
        &project,
        &service.features,
        &HashMap::new(),
        &spine,
        "ts",
        Some(7),
    )
    .await
    .unwrap_or_else(|e| panic!("{case}: {e}"));
    if let Err(diff) = compare_tolerant(&actual, &read_parquet(&dir.join("expected.parquet"))) {
        panic!("{case}: imported project vs expected: {diff}");
    }
    let hand_written = compile_dir(&dir);
    let expected = training_set(
        &hand_written,
        &hand_written.all_features(),
        &HashMap::new(),
        &spine,
        "ts",
        None,
    )
    .await
    .unwrap_or_else(|e| panic!("{case}: {e}"));
    if let Err(diff) = bit_equal(&actual, &expected) {
        panic!("{case}: imported project vs hand-written project: {diff}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_spec_imports_and_matches_expected() {
    check("synthetic").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marketplace_spec_imports_and_matches_expected() {
    check("marketplace").await;
}
