//! `featc stats` and `featc drift` on tiny tables whose every statistic is worked out
//! by hand below, and their exit codes: 1 above a threshold, 2 on usage and data
//! errors (naming the file), a column of a type without statistics skipped with a note.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::cli_common;

use cli_common::{featc, stderr};

fn scratch(test: &str) -> PathBuf {
    cli_common::scratch(&format!("cli_stats/{test}"))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().to_string()
}

fn json(out: &std::process::Output) -> Json {
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn feature<'a>(doc: &'a Json, name: &str) -> &'a Json {
    doc["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["name"] == name)
        .expect("the feature")
}

/// x: 1, 2, 3, 4 and one empty cell; s: a, a, b, (empty), c.
const BASELINE: &str =
    "x,s,d\n3,a,2024-01-01\n1,a,2024-01-02\n,b,2024-01-03\n4,,2024-01-04\n2,c,2024-01-05\n";
/// x: 3, 4, 5, 6 (no nulls); s: a, b, b, b.
const CURRENT: &str = "x,s\n3,a\n4,b\n5,b\n6,b\n";

#[test]
fn every_statistic_by_hand() {
    let dir = scratch("by_hand");
    let table = write(&dir, "t.csv", BASELINE);
    let out = featc(&["stats", &table, "--format", "json", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["rows"], 5);
    let x = feature(&doc, "x");
    assert_eq!(x["type"], "int64");
    // 4 of 5 rows have a value.
    assert_eq!(x["fill_rate"], 0.8);
    let n = &x["numeric"];
    // Mean (1 + 2 + 3 + 4) / 4 = 2.5; population variance
    // ((1.5)² + (0.5)² + (0.5)² + (1.5)²) / 4 = 1.25.
    assert_eq!(n["mean"], 2.5);
    assert_eq!(n["stddev"], 1.25f64.sqrt());
    assert_eq!((n["min"].clone(), n["max"].clone()), (1.into(), 4.into()));
    // Nearest rank among 4 values: p1 → rank max(1, ceil(0.04)) = 1, p25 → 1, p50 →
    // 2 (the lower middle), p75 → 3, p95 and p99 → 4.
    let q: Vec<(u64, i64)> = n["quantiles"]
        .as_array()
        .expect("quantiles")
        .iter()
        .map(|q| {
            (
                q["p"].as_u64().unwrap_or(0),
                q["value"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        q,
        vec![(1, 1), (5, 1), (25, 1), (50, 2), (75, 3), (95, 4), (99, 4)]
    );
    let s = feature(&doc, "s");
    assert_eq!(s["fill_rate"], 0.8);
    // a twice, then b and c once each: the tie broken by value.
    assert_eq!(
        s["categorical"]["top"],
        serde_json::json!([
            {"value": "a", "count": 2},
            {"value": "b", "count": 1},
            {"value": "c", "count": 1}
        ])
    );
    // The date column has no statistics: skipped, with the reason.
    assert_eq!(doc["skipped"][0]["column"], "d");
    let text = featc(&["stats", &table, "-q"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("skipped `d` (Date32)"));
}

/// The PSI of bin shares (each floored at 1e-4), as docs/stats.md defines it.
fn psi(b: &[f64], c: &[f64]) -> f64 {
    b.iter()
        .zip(c)
        .map(|(&b, &c)| {
            let (b, c) = (b.max(1e-4), c.max(1e-4));
            (c - b) * (c / b).ln()
        })
        .sum()
}

#[test]
fn psi_and_ks_by_hand() {
    let dir = scratch("drift");
    let baseline = write(&dir, "b.csv", BASELINE);
    let current = write(&dir, "c.csv", CURRENT);
    let out = featc(&["drift", &baseline, &current, "--format", "json", "-q"]);
    // PSI far above 0.2: exit code 1.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    let x = feature(&doc, "x");
    // x's deciles over 1, 2, 3, 4 (ranks ceil(0.4) = 1, ceil(0.8) = 1, 2, 2, 2, 3, 3,
    // 4, 4) are the edges 1, 2, 3, 4. Bins: null, NaN, (-inf, 1], (1, 2], (2, 3],
    // (3, 4], (4, inf). Baseline (5 rows): 1 null, then one value in each of the four
    // first numeric bins. Current (4 rows): 3 and 4 in (2, 3] and (3, 4], 5 and 6 in
    // (4, inf).
    let b = [0.2, 0.0, 0.2, 0.2, 0.2, 0.2, 0.0];
    let c = [0.0, 0.0, 0.0, 0.0, 0.25, 0.25, 0.5];
    let expected = psi(&b, &c);
    let got = x["psi"].as_f64().expect("psi");
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    // KS over {1, 2, 3, 4} and {3, 4, 5, 6}: after 2 the CDFs are 1/2 and 0, after 3
    // 3/4 and 1/4, after 4 1 and 1/2: D = 1/2.
    assert_eq!(x["ks"], 0.5);
    assert_eq!(x["drifted"], true);
    // s's bins: null, the baseline's top values a, b, c, then other.
    // Baseline: 1 null, a 2, b 1, c 1; current: a 1, b 3.
    let s = feature(&doc, "s");
    let expected = psi(&[0.2, 0.4, 0.2, 0.2, 0.0], &[0.0, 0.25, 0.75, 0.0, 0.0]);
    let got = s["psi"].as_f64().expect("psi");
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    assert_eq!(s["ks"], Json::Null);
    // d is a date (skipped), so in neither table's features.
    assert_eq!(doc["only_in_baseline"], serde_json::json!([]));
}

#[test]
fn thresholds_decide_the_exit_code() {
    let dir = scratch("thresholds");
    let baseline = write(&dir, "b.csv", BASELINE);
    let current = write(&dir, "c.csv", CURRENT);
    // x's PSI is about 8.2 and s's about 2.9; KS 0.5.
    let loose = featc(&[
        "drift",
        &baseline,
        &current,
        "--psi-threshold",
        "100",
        "--ks-threshold",
        "0.5",
        "-q",
    ]);
    assert_eq!(loose.status.code(), Some(0), "{}", stderr(&loose));
    assert!(String::from_utf8_lossy(&loose.stdout).contains("0 of 2 features drifted"));
    // KS 0.5 is not above 0.5, but above 0.49.
    let strict = featc(&[
        "drift",
        &baseline,
        &current,
        "--psi-threshold",
        "100",
        "--ks-threshold",
        "0.49",
        "-q",
    ]);
    assert_eq!(strict.status.code(), Some(1));
    // A table against itself: PSI and KS 0.
    let same = featc(&["drift", &baseline, &baseline, "-q"]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    let bad = featc(&["drift", &baseline, &current, "--psi-threshold", "-1"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_stored_baseline_gives_the_same_psi() {
    let dir = scratch("stored");
    let baseline = write(&dir, "b.csv", BASELINE);
    let current = write(&dir, "c.csv", CURRENT);
    let stored = dir.join("b.json").to_string_lossy().to_string();
    let out = featc(&[
        "stats", &baseline, "--format", "json", "--out", &stored, "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let from_table = json(&featc(&[
        "drift", &baseline, &current, "--format", "json", "-q",
    ]));
    let from_stats = json(&featc(&[
        "drift", &stored, &current, "--format", "json", "-q",
    ]));
    for name in ["x", "s"] {
        assert_eq!(
            feature(&from_table, name)["psi"],
            feature(&from_stats, name)["psi"]
        );
    }
    // KS needs the baseline's values, which statistics do not keep.
    assert_eq!(feature(&from_stats, "x")["ks"], Json::Null);
    assert!(feature(&from_stats, "x")["note"]
        .as_str()
        .unwrap_or("")
        .contains("statistics file"));
}

#[test]
fn features_of_one_table_only_are_listed() {
    let dir = scratch("one_side");
    let baseline = write(&dir, "b.csv", "x,y\n1,2\n");
    let current = write(&dir, "c.csv", "x,z\n1,2\n");
    let out = featc(&["drift", &baseline, &current, "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("only in the baseline: y"), "{text}");
    assert!(text.contains("only in the current table: z"), "{text}");
}

#[test]
fn bad_input_names_the_file_and_exits_2() {
    let dir = scratch("bad");
    let broken = write(&dir, "broken.parquet", "not a parquet file");
    let out = featc(&["stats", &broken, "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("broken.parquet"), "{}", stderr(&out));
    let ragged = write(&dir, "ragged.csv", "x,y\n1,2\n3,4,5\n");
    let out = featc(&["stats", &ragged, "-q"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("ragged.csv") && err.contains(":3"), "{err}");
    let out = featc(&["stats", &dir.join("absent.csv").to_string_lossy(), "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("absent.csv"));
    let table = write(&dir, "t.csv", "x\n1\n");
    let out = featc(&["stats", &table, "--features", "nope", "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no column `nope`"),
        "{}",
        stderr(&out)
    );
    let not_stats = write(&dir, "b.json", "{}");
    let out = featc(&["drift", &not_stats, &table, "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("b.json"));
}
