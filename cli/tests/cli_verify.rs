//! `featc verify` on the command line: exit status 0 when the paths agree on an
//! example's data and generated cases, the JSON report, the note when a source has no
//! data, the usage and project errors, and what an engine of `--sql-engine` is given.

use crate::cli_common;

use cli_common::{featc, featc_with_tmpdir, stderr};
use std::path::{Path, PathBuf};

/// This module's folder under the test binary's temporary directory.
fn module_tmp() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_verify")
}

/// `featc ARGS` with a fresh `cli_verify/TEST` as its `TMPDIR`: where a failed engine
/// run's folder is kept.
fn featc_in(test: &str, args: &[&str]) -> std::process::Output {
    featc_with_tmpdir(args, &cli_common::scratch(&format!("cli_verify/{test}")))
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_fraud_example_verifies() {
    let out = featc(&["verify", "examples/fraud", "--cases", "3", "--quiet"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.starts_with("featc verify: reference vs batch, stream, sql on 4 datasets\n"),
        "{text}"
    );
    assert!(text.contains("agree      your data:"), "{text}");
    assert!(text.contains("agree      generated case 3:"), "{text}");
    assert!(
        text.ends_with("every path agrees with the reference: bit for bit, but sql's floats within docs/scale-out.md's bound\n"),
        "{text}"
    );
}

#[test]
fn a_service_verifies_with_a_spine_of_the_users() {
    let out = featc(&[
        "verify",
        "examples/fraud",
        "--service",
        "fraud_v1",
        "--spine",
        "examples/fraud/data/spine.csv",
        "--cases",
        "2",
        "--quiet",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("rows of the spine"), "{text}");
}

#[test]
fn json_report() {
    let out = featc(&[
        "verify",
        "examples/delivery",
        "--generated-only",
        "--cases",
        "2",
        "--seed",
        "7",
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["verify_version"], 1);
    assert_eq!(
        report["paths"],
        serde_json::json!(["batch", "stream", "sql"])
    );
    // The delivery example's list features have no SQL: said, not compared.
    let left_out = datasets_left_out(&report);
    assert!(
        left_out.iter().any(|m| m.contains("refused (E0040")),
        "{left_out:?}"
    );
    let datasets = report["datasets"].as_array().expect("datasets");
    assert_eq!(datasets.len(), 2);
    assert_eq!(datasets[0]["label"], "generated case 1");
    assert_eq!(datasets[0]["disagreeing_cells"], 0);
    assert!(datasets[0]["spine_rows"].as_u64().expect("rows") > 0);
    assert_eq!(report["notes"][0], "your data: not read (--generated-only)");
}

fn datasets_left_out(report: &serde_json::Value) -> Vec<String> {
    report["datasets"][0]["left_out"]
        .as_array()
        .expect("left_out")
        .iter()
        .map(|f| f["message"].as_str().expect("message").to_string())
        .collect()
}

#[test]
fn without_sql() {
    let out = featc(&["verify", "examples/fraud", "--cases", "1", "--no-sql", "-q"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.starts_with("featc verify: reference vs batch, stream on 2 datasets\n"),
        "{text}"
    );
    assert!(
        text.ends_with("every path agrees with the reference, bit for bit\n"),
        "{text}"
    );
}

#[test]
fn a_source_without_data_verifies_on_generated_cases_and_says_so() {
    let dir = cli_common::scratch("cli_verify/nodata");
    std::fs::write(
        dir.join("p.feat"),
        "source tx {\n    time ts\n    columns { user_id: int64 }\n}\nentity user { key user_id: int64 }\nview v from tx by user {\n    feature n = count(*) over 1h\n}\n",
    )
    .expect("write");
    let out = featc(&["verify", dir.to_str().expect("utf-8"), "--cases", "2", "-q"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("note: your data: not read: no data for source `tx` (declare its `file` or pass --source NAME=PATH)"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn usage_and_project_errors() {
    let out = featc(&["verify", "examples/fraud", "--source", "nope=x.csv", "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--source: the project has no source `nope`"),
        "{}",
        stderr(&out)
    );
    let out = featc(&[
        "verify",
        "examples/fraud",
        "--source",
        "transactions=/nonexistent/tx.csv",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/nonexistent/tx.csv"),
        "{}",
        stderr(&out)
    );
    let out = featc(&["verify", "examples/fraud", "--features", "no_such", "-q"]);
    assert_eq!(out.status.code(), Some(2));
    let out = featc(&[
        "verify",
        "compiler/tests/diagnostics/E0001_syntax.feat",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn sql_engine_usage_errors() {
    for (spec, message) in [
        ("duckdb", "--sql-engine `duckdb`: expected DIALECT=COMMAND"),
        (
            "sqlite=true",
            "no dialect `sqlite` (one of spark, duckdb, postgres, datafusion)",
        ),
        ("duckdb= ", "--sql-engine `duckdb= `: the command is empty"),
    ] {
        let out = featc(&["verify", "examples/fraud", "--sql-engine", spec, "-q"]);
        assert_eq!(out.status.code(), Some(2), "{spec}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{spec}: {}", stderr(&out));
    }
}

/// The `(its files are kept in DIR)` folders of failed engine runs, in report order.
fn kept_folders(text: &str) -> Vec<PathBuf> {
    let kept: Vec<PathBuf> = text
        .split("(its files are kept in ")
        .skip(1)
        .map(|rest| PathBuf::from(&rest[..rest.find(')').expect("closing parenthesis")]))
        .collect();
    // Under the run's TMPDIR (`featc_in`), not the system's temporary folder.
    for dir in &kept {
        assert!(dir.starts_with(module_tmp()), "{}", dir.display());
    }
    kept
}

/// The first kept folder of a report.
fn kept_folder(text: &str) -> PathBuf {
    kept_folders(text)
        .into_iter()
        .next()
        .expect("a kept folder")
}

/// `featc verify` of the fraud example on one generated case, on each
/// `--sql-engine` of `specs` (`test` names its TMPDIR).
fn one_case_on_engines(test: &str, specs: &[&str]) -> std::process::Output {
    let mut args = vec![
        "verify",
        "examples/fraud",
        "--generated-only",
        "--cases",
        "1",
        "--no-sql",
        "-q",
    ];
    for spec in specs {
        args.extend(["--sql-engine", spec]);
    }
    featc_in(test, &args)
}

#[test]
fn an_engine_command_that_fails_is_a_failed_run_with_its_stderr_and_files() {
    let out = one_case_on_engines("failing", &["duckdb=echo no such table >&2; exit 3"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.starts_with("featc verify: reference vs batch, stream, sql:duckdb on 1 dataset\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "sql:duckdb: failed where the reference answered: `echo no such table >&2; exit 3` exited with exit status: 3:\nno such table\n"
        ),
        "{text}"
    );
    // What the command was given stays for a rerun by hand.
    let dir = kept_folder(&text);
    let script = std::fs::read_to_string(dir.join("query.sql")).expect("query.sql");
    assert!(script.contains("\"featc_verify_spine\""), "{script}");
    assert!(script.trim_end().ends_with(';'), "{script}");
    for table in ["transactions", "featc_verify_spine"] {
        assert!(
            dir.join("tables")
                .join(format!("{table}.parquet"))
                .is_file(),
            "{table} in {}",
            dir.display()
        );
    }
    std::fs::remove_dir_all(&dir).ok();

    let out = one_case_on_engines("failing-spark", &["spark=true"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains(
            "sql:spark: failed where the reference answered: the command wrote no result: "
        ),
        "{text}"
    );
    std::fs::remove_dir_all(kept_folder(&text)).ok();
}

/// An engine outside featc gets each source flat: a generated case's struct and map
/// columns (the checkout example's `shipping` and `risk`, which the other paths read
/// whole) come as the path columns the project reads, never as an Arrow struct or
/// map, which an engine need not load.
#[test]
fn an_engine_gets_struct_and_map_columns_as_their_paths() {
    let out = featc_in(
        "paths",
        &[
            "verify",
            "examples/checkout",
            "--generated-only",
            "--cases",
            "1",
            "--no-sql",
            "-q",
            "--sql-engine",
            "duckdb=exit 3",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    let dir = kept_folder(&text);
    let payments =
        featc_test_support::parquet::read_parquet(&dir.join("tables").join("payments.parquet"));
    let schema = payments.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    for path in ["shipping.express", "shipping.geo.lat", "risk['velocity']"] {
        assert!(names.contains(&path), "{path} in {names:?}");
    }
    assert!(
        !names.contains(&"shipping") && !names.contains(&"risk"),
        "{names:?}"
    );
    assert!(
        schema.fields().iter().all(|f| !f.data_type().is_nested()
            || matches!(
                f.data_type(),
                datafusion::arrow::datatypes::DataType::List(_)
            )),
        "{schema:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn two_engines_of_one_dialect_are_told_apart() {
    let out = one_case_on_engines("two", &["duckdb=exit 4", "duckdb=exit 5"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.starts_with(
            "featc verify: reference vs batch, stream, sql:duckdb, sql:duckdb#2 on 1 dataset\n"
        ),
        "{text}"
    );
    for (name, status) in [("sql:duckdb", 4), ("sql:duckdb#2", 5)] {
        let said = format!(
            "{name}: failed where the reference answered: `exit {status}` exited with exit status: {status}:"
        );
        assert!(text.contains(&said), "{said} in {text}");
    }
    // Each failed run keeps a folder of its own.
    let kept = kept_folders(&text);
    assert_eq!(kept.len(), 2, "{text}");
    assert_ne!(kept[0], kept[1]);
    for dir in kept {
        assert!(dir.join("query.sql").is_file(), "{}", dir.display());
        std::fs::remove_dir_all(&dir).ok();
    }
}
