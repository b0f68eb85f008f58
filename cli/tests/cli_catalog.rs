//! `featc catalog` as a command: its formats and default, `--out`, and exit codes (2
//! for a bad format or an unwritable file, 1 for a project with errors). What the
//! catalog holds is checked in catalog_snapshots.rs.

use std::path::PathBuf;

use crate::cli_common;

use cli_common::{featc, stderr};

fn scratch(test: &str) -> PathBuf {
    cli_common::scratch(&format!("cli_catalog/{test}"))
}

#[test]
fn markdown_is_the_default_and_goes_to_stdout() {
    let o = featc(&["catalog", "examples/fraud"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("# Feature catalog\n"), "{text}");
    assert!(text.contains("### `txn_count_1h`"));
    let explicit = featc(&["catalog", "examples/fraud", "--format", "markdown"]);
    assert_eq!(explicit.stdout, o.stdout);
}

#[test]
fn json_names_its_version_and_every_feature() {
    let o = featc(&["catalog", "examples/fraud", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(doc["catalog_version"], 1);
    let names: Vec<&str> = doc["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names.len(), 16);
    assert_eq!(names[0], "txn_count_1h");
    assert_eq!(doc["services"][0]["name"], "fraud_v1");
}

#[test]
fn out_writes_the_file_and_nothing_to_stdout() {
    let dir = scratch("out");
    let path = dir.join("catalog.html");
    let o = featc(&[
        "catalog",
        "examples/fraud",
        "--format",
        "html",
        "--out",
        path.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("wrote "), "{}", stderr(&o));
    let html = std::fs::read_to_string(&path).expect("the page");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("id=\"lineage-graph\""));
}

#[test]
fn a_bad_format_is_a_usage_error() {
    let o = featc(&["catalog", "examples/fraud", "--format", "pdf"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn an_unwritable_out_is_an_io_error() {
    let dir = scratch("unwritable");
    let path = dir.join("missing-folder").join("catalog.md");
    let o = featc(&[
        "catalog",
        "examples/fraud",
        "--out",
        path.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
}

#[test]
fn a_project_with_errors_is_reported_and_exits_1() {
    let dir = scratch("broken");
    let file = dir.join("broken.feat");
    std::fs::write(
        &file,
        "view v from nowhere by nobody { feature n = count(*) }\n",
    )
    .expect("write");
    let o = featc(&["catalog", file.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("error"), "{}", stderr(&o));
}

#[test]
fn a_missing_project_is_an_io_error() {
    let o = featc(&["catalog", "no/such/project"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
