//! Delta tables as sources and outputs (issue 45), on tables written by the reference
//! Python library (`deltalake`, `cli_delta.py`): the marketplace case's orders as three
//! versions (a first half without the `express` column, the second half appended with
//! it, a delete of every fifth order). A training set read from the table at each
//! version is bit for bit the one read from a Parquet copy of what that version holds
//! (made by `deltalake`'s own `to_pyarrow_table()`); the version read is recorded and
//! `--as-of-version` reads it again; `--out delta:` is read back by Python as the
//! Parquet output's rows; the same on the S3 server; errors name the location.

use crate::cli_common::{recorded_versions, same_rows, scratch};
use crate::services::S3Server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use datafusion::arrow::record_batch::RecordBatch;
use featc_test_support::compare::bit_equal;
use featc_test_support::parquet::read_parquet;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_path_buf()
}

fn case() -> PathBuf {
    repo().join("tests/cases/marketplace")
}

/// The S3 server's settings as the AWS_* environment, for featc and for Python.
fn s3_env(server: Option<&S3Server>) -> Vec<(&'static str, String)> {
    match server {
        None => Vec::new(),
        Some(s) => vec![
            ("AWS_ENDPOINT_URL", s.endpoint()),
            ("AWS_ACCESS_KEY_ID", s.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", s.secret_key.clone()),
            ("AWS_REGION", "us-east-1".to_string()),
        ],
    }
}

/// `python cli_delta.py ARGS` with the venv's `deltalake`; its standard output.
fn python(server: Option<&S3Server>, args: &[&str]) -> String {
    let out = Command::new(repo().join(".services/venv/bin/python"))
        .arg(repo().join("cli/tests/cli_delta.py"))
        .args(args)
        .envs(s3_env(server))
        .output()
        .expect("python (scripts/services/install makes the venv)");
    assert!(
        out.status.success(),
        "cli_delta.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn featc(server: Option<&S3Server>, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(args)
        .envs(s3_env(server))
        .env_remove("AWS_ENDPOINT")
        .current_dir(repo())
        .output()
        .expect("featc runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A marketplace training set with `more` arguments, written to `out`; its stderr.
fn training_set(server: Option<&S3Server>, out: &str, more: &[&str]) -> String {
    let spine = case().join("spine.parquet").to_string_lossy().to_string();
    let case = case().to_string_lossy().to_string();
    let mut args = vec!["training-set", &case, "--spine", &spine, "--out", out];
    args.extend_from_slice(more);
    let run = featc(server, &args);
    assert!(run.status.success(), "{args:?}: {}", stderr(&run));
    stderr(&run)
}

fn batch(path: &Path) -> RecordBatch {
    read_parquet(path)
}

/// What Python reads of the Delta table `table`, against the Parquet file `parquet`.
fn read_back(server: Option<&S3Server>, table: &str, parquet: &Path) -> serde_json::Value {
    let text = python(server, &["read", table, &parquet.to_string_lossy()]);
    serde_json::from_str(&text).expect("JSON")
}

fn text(path: &Path) -> String {
    path.to_string_lossy().to_string()
}

#[test]
fn delta_tables_read_as_their_versions_hold_and_pins_reproduce_them() {
    let dir = scratch("delta");
    let orders = dir.join("orders");
    let copies = dir.join("copies");
    python(
        None,
        &[
            "history",
            &text(&case().join("orders.parquet")),
            &text(&orders),
            &text(&copies),
        ],
    );
    let table = format!("delta:{}", orders.display());
    let binding = format!("orders={table}");
    let out = |name: &str| dir.join(name);

    // The latest version (2): the copy of what it holds gives the same training set.
    let said = training_set(
        None,
        &text(&out("latest.parquet")),
        &["--source", &binding, "-q"],
    );
    assert!(
        said.contains(&format!("source `orders`: {table} at version 2")),
        "{said}"
    );
    let copy = format!("orders={}", copies.join("v2.parquet").display());
    training_set(
        None,
        &text(&out("copy2.parquet")),
        &["--source", &copy, "-q"],
    );
    same_rows(&out("latest.parquet"), &out("copy2.parquet"));
    assert_eq!(
        recorded_versions(&out("latest.parquet")),
        serde_json::json!({"orders": {"location": table, "version": 2}})
    );

    // Version 1 (before the delete; its first half reads `express` as null), pinned.
    let pinned = training_set(
        None,
        &text(&out("v1.parquet")),
        &["--source", &binding, "--as-of-version", "orders=1", "-q"],
    );
    assert!(pinned.contains("at version 1"), "{pinned}");
    let copy = format!("orders={}", copies.join("v1.parquet").display());
    training_set(
        None,
        &text(&out("copy1.parquet")),
        &["--source", &copy, "-q"],
    );
    same_rows(&out("v1.parquet"), &out("copy1.parquet"));
    assert_eq!(
        recorded_versions(&out("v1.parquet"))["orders"]["version"],
        1
    );
    assert!(
        bit_equal(&batch(&out("v1.parquet")), &batch(&out("latest.parquet"))).is_err(),
        "the delete changes the training set"
    );
    // Version 0 has no `express`: the features that do not read it.
    let features = [
        "--features",
        "buyer_orders_30d,buyer_spend_7d,seller_orders_1h",
    ];
    let mut v0 = vec!["--source", &binding, "--as-of-version", "orders=0", "-q"];
    v0.extend_from_slice(&features);
    training_set(None, &text(&out("v0.parquet")), &v0);
    let copy = format!("orders={}", copies.join("v0.parquet").display());
    let mut c0 = vec!["--source", copy.as_str(), "-q"];
    c0.extend_from_slice(&features);
    training_set(None, &text(&out("copy0.parquet")), &c0);
    same_rows(&out("v0.parquet"), &out("copy0.parquet"));

    // A table declared in the project, relative to its `.feat` file; the spine from a
    // table too.
    let project = dir.join("project");
    std::fs::create_dir_all(&project).expect("project");
    let feat = std::fs::read_to_string(case().join("features.feat")).expect("features.feat");
    let feat = feat
        .replace("file \"orders.parquet\"", "file \"delta:../orders\"")
        .replace(
            "file \"reviews.parquet\"",
            &format!("file \"{}\"", case().join("reviews.parquet").display()),
        );
    std::fs::write(project.join("features.feat"), feat).expect("write");
    let spine_table = dir.join("spine");
    python(
        None,
        &[
            "table",
            &text(&case().join("spine.parquet")),
            &text(&spine_table),
        ],
    );
    let run = featc(
        None,
        &[
            "training-set",
            &text(&project),
            "--spine",
            &format!("delta:{}", spine_table.display()),
            "--out",
            &text(&out("declared.parquet")),
            "-q",
        ],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    same_rows(&out("declared.parquet"), &out("latest.parquet"));

    // `--out delta:`: created, then overwritten by a new version; Python reads each
    // as the Parquet output's rows, with the versions read in the commit.
    let written = format!("delta:{}", dir.join("training").display());
    let written_root = text(&dir.join("training"));
    training_set(None, &written, &["--source", &binding, "-q"]);
    let first = read_back(None, &written_root, &out("latest.parquet"));
    assert_eq!(first["version"], 0, "{first}");
    assert_eq!(first["equal"], true, "{first}");
    training_set(
        None,
        &written,
        &["--source", &binding, "--as-of-version", "orders=1", "-q"],
    );
    let second = read_back(None, &written_root, &out("v1.parquet"));
    assert_eq!(second["version"], 1, "{second}");
    assert_eq!(second["equal"], true, "{second}");
    assert_eq!(second["featc"]["orders"]["version"], 1, "{second}");

    // Errors name the source and the location, and exit 2; a failed run leaves the
    // output table at its version.
    let case_arg = text(&case());
    let spine = text(&case().join("spine.parquet"));
    let missing = format!("orders=delta:{}", dir.join("nowhere").display());
    for (more, expect) in [
        (vec!["--source", missing.as_str()], "Path does not exist"),
        (
            vec!["--source", binding.as_str(), "--as-of-version", "orders=7"],
            "version 7 does not exist",
        ),
        (vec!["--as-of-version", "reviews=0"], "source `reviews`"),
        (vec!["--as-of-version", "orders=x"], "SOURCE=VERSION"),
    ] {
        let mut args = vec![
            "training-set",
            &case_arg,
            "--spine",
            &spine,
            "--out",
            &written,
            "-q",
        ];
        args.extend_from_slice(&more);
        let run = featc(None, &args);
        assert_eq!(run.status.code(), Some(2), "{more:?}: {}", stderr(&run));
        assert!(stderr(&run).contains(expect), "{more:?}: {}", stderr(&run));
        if more.contains(&missing.as_str()) {
            let said = stderr(&run);
            assert!(
                said.contains(&format!("source `orders`: cannot read `{}`", &missing[7..])),
                "{said}"
            );
        }
    }
    let after = read_back(None, &written_root, &out("v1.parquet"));
    assert_eq!(after["version"], 1, "{after}");
    docs_examples(&dir);
}

/// The `sh` examples of docs/sources.md's "Delta tables" section run as written, in
/// a folder holding the marketplace case and its orders as a Delta table
/// (`lake/orders`).
fn docs_examples(dir: &Path) {
    let docs = std::fs::read_to_string(repo().join("docs/sources.md")).expect("docs");
    let section = docs
        .split("## Delta tables")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Delta tables section");
    let work = dir.join("docs");
    std::fs::create_dir_all(work.join("lake")).expect("folder");
    std::os::unix::fs::symlink(repo().join("tests"), work.join("tests")).expect("symlink");
    python(
        None,
        &[
            "history",
            &text(&case().join("orders.parquet")),
            &text(&work.join("lake/orders")),
            &text(&dir.join("docs_copies")),
        ],
    );
    let mut ran = 0;
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```sh" {
            continue;
        }
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        let script = body
            .join("\n")
            .replace("featc ", &format!("{} ", env!("CARGO_BIN_EXE_featc")));
        let run = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(&work)
            .output()
            .expect("bash");
        assert!(run.status.success(), "{script}\n{}", stderr(&run));
        ran += 1;
    }
    assert!(ran >= 2, "the section's examples were not found");
}

#[test]
fn delta_tables_in_s3_read_and_write_as_local_ones() {
    let dir = scratch("delta_s3");
    let server = S3Server::start(&dir);
    server.create_bucket("lake");
    let copies = dir.join("copies");
    python(
        Some(&server),
        &[
            "history",
            &text(&case().join("orders.parquet")),
            "s3://lake/tables/orders",
            &text(&copies),
        ],
    );
    let s3 = Some(&server);
    let binding = "orders=delta:s3://lake/tables/orders";
    let out = |name: &str| text(&dir.join(name));
    let said = training_set(s3, &out("latest.parquet"), &["--source", binding, "-q"]);
    assert!(said.contains("at version 2"), "{said}");
    let copy = format!("orders={}", copies.join("v2.parquet").display());
    training_set(None, &out("copy2.parquet"), &["--source", &copy, "-q"]);
    same_rows(&dir.join("latest.parquet"), &dir.join("copy2.parquet"));

    training_set(
        s3,
        &out("v1.parquet"),
        &["--source", binding, "--as-of-version", "orders=1", "-q"],
    );
    let copy = format!("orders={}", copies.join("v1.parquet").display());
    training_set(None, &out("copy1.parquet"), &["--source", &copy, "-q"]);
    same_rows(&dir.join("v1.parquet"), &dir.join("copy1.parquet"));

    // Written to S3 as a Delta table, read back by Python.
    training_set(s3, "delta:s3://lake/training", &["--source", binding, "-q"]);
    let read = read_back(s3, "s3://lake/training", &dir.join("latest.parquet"));
    assert_eq!(read["equal"], true, "{read}");
    assert_eq!(read["version"], 0, "{read}");

    // A missing table names its location; the secret never shows.
    let case_arg = text(&case());
    let spine = text(&case().join("spine.parquet"));
    let run = featc(
        s3,
        &[
            "training-set",
            &case_arg,
            "--spine",
            &spine,
            "--source",
            "orders=delta:s3://lake/tables/gone",
            "--out",
            &out("gone.parquet"),
        ],
    );
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("delta:s3://lake/tables/gone"),
        "{}",
        stderr(&run)
    );
    assert!(
        !stderr(&run).contains(&server.secret_key),
        "{}",
        stderr(&run)
    );
}
