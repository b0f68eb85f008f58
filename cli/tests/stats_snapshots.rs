//! Snapshots of `featc stats` (text and JSON) and `featc drift` (text) on the fraud
//! example's training set (built here by `featc training-set`) and the public cases'
//! expected tables: the layout and every number of the output is reviewed once and
//! kept.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::parquet::arrow::ArrowWriter;
use featc_test_support::parquet::read_parquet_batches;

use crate::cli_common;

use cli_common::{featc, stderr};

fn scratch(test: &str) -> PathBuf {
    cli_common::scratch(&format!("stats_snapshots/{test}"))
}

/// The fraud example's training set, in `dir`.
fn fraud_training_set(dir: &Path) -> String {
    let out = dir.join("train.parquet").to_string_lossy().to_string();
    let run = featc(&[
        "training-set",
        "examples/fraud",
        "--spine",
        "examples/fraud/data/spine.csv",
        "--out",
        &out,
        "-q",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    out
}

/// stdout, with the scratch folder's path (which differs between machines) replaced.
fn stdout(out: &std::process::Output, dir: &Path) -> String {
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", stderr(out));
    String::from_utf8_lossy(&out.stdout).replace(&format!("{}/", dir.to_string_lossy()), "")
}

/// The spine's columns of the fraud training set: entity keys, time, label.
const SPINE_COLUMNS: &str = "user_id,ts,merchant_id,is_fraud";

#[test]
fn stats_of_the_fraud_training_set() {
    let dir = scratch("fraud");
    let train = fraud_training_set(&dir);
    let text = featc(&["stats", &train, "--exclude", SPINE_COLUMNS, "-q"]);
    insta::assert_snapshot!("fraud_stats_text", stdout(&text, &dir));
    let json = featc(&[
        "stats",
        &train,
        "--exclude",
        SPINE_COLUMNS,
        "--format",
        "json",
        "-q",
    ]);
    insta::assert_snapshot!("fraud_stats_json", stdout(&json, &dir));
}

#[test]
fn stats_of_the_public_cases() {
    for case in ["marketplace", "synthetic"] {
        let table = format!("tests/cases/{case}/expected.parquet");
        let text = featc(&["stats", &table, "-q"]);
        insta::assert_snapshot!(format!("{case}_stats_text"), stdout(&text, Path::new("/")));
        let json = featc(&["stats", &table, "--format", "json", "-q"]);
        insta::assert_snapshot!(format!("{case}_stats_json"), stdout(&json, Path::new("/")));
    }
}

/// Writes the rows of `table` from `skip` on to `out`.
fn tail(table: &str, skip: usize, out: &Path) {
    let batches = read_parquet_batches(Path::new(table));
    let schema = Arc::clone(&batches[0].schema());
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(out).expect("create"), schema, None)
            .expect("writer");
    let mut seen = 0;
    for b in &batches {
        let n = b.num_rows();
        if seen + n > skip {
            let from = skip.saturating_sub(seen);
            writer.write(&b.slice(from, n - from)).expect("write");
        }
        seen += n;
    }
    writer.close().expect("close");
}

#[test]
fn drift_of_the_fraud_training_set_against_its_last_rows() {
    let dir = scratch("drift");
    let train = fraud_training_set(&dir);
    let late = dir.join("late.parquet");
    // The spine is in time order: its last 100 rows are a later population.
    tail(&train, 200, &late);
    let late = late.to_string_lossy().to_string();
    let out = featc(&["drift", &train, &late, "--exclude", SPINE_COLUMNS, "-q"]);
    let code = out.status.code();
    insta::assert_snapshot!("fraud_drift_text", stdout(&out, &dir));
    let drifted = String::from_utf8_lossy(&out.stdout).contains("DRIFT");
    assert_eq!(code, Some(if drifted { 1 } else { 0 }));
    // Against itself nothing drifts.
    let same = featc(&["drift", &train, &train, "--exclude", SPINE_COLUMNS, "-q"]);
    assert_eq!(same.status.code(), Some(0));
}
