//! `featc serve --log-served DIR` makes a folder `featc stats` and `featc drift` read
//! as a table: its key, time and status columns are not features, and a training set
//! is compared with what was served feature by feature. (What the log holds, its
//! rotation and the fill ratios on `/metrics` are featc-server's tests:
//! server/tests/serve_log.rs.)

use crate::serve_common;

use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};
use serve_common::*;

fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("serve_log")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// The `name` of every entry of a stats or drift JSON document's `features`.
fn feature_names(doc: &Json) -> Vec<&str> {
    doc["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect()
}

#[test]
fn the_served_log_is_a_table_for_stats_and_drift() {
    let dir = scratch("tables");
    let log = dir.join("served");
    let log_arg = log.to_string_lossy().to_string();
    let served = Served::start(
        &[
            "examples/fraud",
            "--bootstrap",
            "--clock",
            "events",
            "--log-served",
            &log_arg,
            // Tiny: the folder holds several files.
            "--log-served-rotate",
            "1",
        ],
        &dir.join("serve.txt"),
    );
    served.wait_ready();
    let reads = [
        json!({"feature_service": "fraud_v1", "entities": {"user_id": [1, 2, 3], "merchant_id": ["m_cafe", "m_fuel", "m_books"]}}),
        json!({"features": ["txn_count_7d", "last_country"], "entities": {"user_id": [4, 999]}}),
        json!({"feature_service": "fraud_v1", "entities": {"user_id": [5], "merchant_id": ["m_games"]}}),
    ];
    for body in &reads {
        let (status, answer) = post(&served.addr, "/get-online-features", body);
        assert_eq!(status, 200, "{answer}");
        // Let the writer's idle flush complete a file between reads.
        std::thread::sleep(std::time::Duration::from_millis(1300));
    }
    served.stop_gracefully();

    // The folder is a table for stats and drift; its key, time and status columns
    // are not features (the files name their features).
    let out = featc_cli(&["stats", &log_arg, "--format", "json", "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Json = serde_json::from_slice(&out.stdout).expect("JSON");
    let names = feature_names(&doc);
    assert!(
        names.contains(&"txn_count_7d") && !names.contains(&"user_id"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.ends_with("__status")), "{names:?}");
    let same = featc_cli(&["drift", &log_arg, &log_arg, "-q"]);
    assert_eq!(same.status.code(), Some(0));
    // The training set against what was served: compared feature by feature (the
    // spine's columns are the training set's only), whatever the verdict.
    let train = dir.join("train.parquet").to_string_lossy().to_string();
    let built = featc_cli(&[
        "training-set",
        "examples/fraud",
        "--spine",
        "examples/fraud/data/spine.csv",
        "--out",
        &train,
        "-q",
    ]);
    assert!(built.status.success());
    let drift = featc_cli(&["drift", &train, &log_arg, "--format", "json", "-q"]);
    assert!(
        matches!(drift.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&drift.stderr)
    );
    let report: Json = serde_json::from_slice(&drift.stdout).expect("JSON");
    let compared = feature_names(&report);
    assert!(
        compared.contains(&"txn_count_7d") && compared.contains(&"last_country"),
        "{compared:?}"
    );
    assert!(report["only_in_baseline"]
        .as_array()
        .expect("list")
        .contains(&json!("user_id")));
}

fn featc_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("featc runs")
}
