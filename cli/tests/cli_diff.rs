//! `featc diff` as a user runs it: exit codes (0 no served change, 1 the gate, 2 usage,
//! IO or a side that does not compile), the text and JSON reports on edits of the
//! fraud example and the marketplace case, and `--git REV` on a repository made here.

use crate::cli_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cli_common::{featc, stderr};

fn root() -> PathBuf {
    featc_test_support::paths::repo_root()
}

/// A fresh scratch folder for one test.
fn temp(name: &str) -> PathBuf {
    cli_common::scratch(&format!("cli_diff/{name}"))
}

/// Copies the `.feat` files of `from` (relative to the repository) into `to`.
fn copy_feat(from: &str, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(root().join(from)).expect("example") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "feat") {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
}

/// Replaces `from` by `to` once in `file` (it must be there).
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).expect("read");
    assert!(text.contains(from), "`{from}` not in {}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).expect("write");
}

/// `featc ARGS` run in `dir`.
fn featc_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_featc"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("featc runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `old/` and `new/` copies of a project in a fresh folder.
fn two_copies(name: &str, project: &str) -> PathBuf {
    let dir = temp(name);
    copy_feat(project, &dir.join("old"));
    copy_feat(project, &dir.join("new"));
    dir
}

#[test]
fn a_project_against_itself_exits_0() {
    let o = featc(&["diff", "examples/fraud", "examples/fraud"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("no feature or service changed meaning"),
        "{text}"
    );
    assert!(text.contains("reused as is"), "{text}");
}

#[test]
fn a_copy_elsewhere_is_no_change_even_its_locations() {
    let dir = temp("copy");
    copy_feat("examples/fraud", &dir.join("fraud"));
    let fraud = dir.join("fraud");
    let o = featc(&["diff", "examples/fraud", fraud.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains("location"), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fraud_a_served_window_and_a_let_exit_1() {
    let dir = two_copies("fraud-served", "examples/fraud");
    let features = dir.join("new/features.feat");
    edit(&features, "sum(amount) over 1d", "sum(amount) over 2d");
    edit(&features, "amount > 100", "amount > 250");
    edit(&dir.join("new/sources.feat"), "lateness 1m", "lateness 2m");
    let o = featc_in(&dir, &["diff", "old", "new"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    insta::assert_snapshot!("fraud_served_text", stdout(&o));
    let o = featc_in(&dir, &["diff", "old", "new", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(json["diff_version"], 1);
    assert_eq!(json["exit_code"], 1);
    insta::assert_snapshot!("fraud_served_json", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fraud_docs_locations_and_an_unserved_feature_exit_0() {
    let dir = two_copies("fraud-quiet", "examples/fraud");
    let features = dir.join("new/features.feat");
    edit(
        &features,
        "/// How a card holder spends.",
        "/// How a card holder spends (all cards).\n// reviewed",
    );
    edit(
        &features,
        "    feature first_seen       = min(ts)\n",
        "    feature first_seen       = min(ts)\n    feature amount_max_1d    = max(amount) over 1d\n",
    );
    let sources = dir.join("new/sources.feat");
    edit(
        &sources,
        "file \"data/logins.csv\"",
        "file \"data/logins.parquet\"",
    );
    edit(&sources, "owner \"payments-team\"", "owner \"risk-team\"");
    let o = featc_in(&dir, &["diff", "old", "new"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("fraud_quiet_text", stdout(&o));
    let o = featc_in(&dir, &["diff", "old", "new", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("fraud_quiet_json", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn marketplace_a_where_and_a_removed_feature() {
    let dir = two_copies("marketplace", "tests/cases/marketplace");
    let features = dir.join("new/features.feat");
    edit(
        &features,
        "where status != 'cancelled'",
        "where status != 'cancelled' and status != 'refunded'",
    );
    edit(
        &features,
        "    feature seller_last_stars      = last(stars)\n",
        "",
    );
    edit(&features, "    seller_last_stars\n", "");
    let o = featc_in(&dir, &["diff", "old", "new"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    insta::assert_snapshot!("marketplace_text", stdout(&o));
    let o = featc_in(&dir, &["diff", "old", "new", "--format", "json"]);
    insta::assert_snapshot!("marketplace_json", stdout(&o));
    // docs/diff.md shows this very document.
    let docs = std::fs::read_to_string(root().join("docs/diff.md")).expect("docs");
    let start = docs.find("```json\n").expect("a json example") + "```json\n".len();
    let end = start + docs[start..].find("```").expect("its end");
    let shown: serde_json::Value = serde_json::from_str(&docs[start..end]).expect("json");
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        shown, printed,
        "docs/diff.md's JSON example is not what featc prints"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_side_that_does_not_compile_exits_2_and_says_which() {
    let dir = two_copies("broken", "examples/fraud");
    edit(&dir.join("new/features.feat"), "over 1h", "over 1parsec");
    let o = featc_in(&dir, &["diff", "old", "new"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("the NEW project (new) does not compile"),
        "{err}"
    );
    assert!(err.contains("new/features.feat"), "{err}");
    let o = featc_in(&dir, &["diff", "new", "old"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("the OLD project (new) does not compile"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_and_io_errors_exit_2() {
    for args in [
        &["diff", "examples/fraud"][..],
        &["diff", "examples/fraud", "examples/fraud", "examples/fraud"],
        &["diff", "examples/fraud", "no/such/project"],
        &[
            "diff",
            "examples/fraud",
            "examples/fraud",
            "--format",
            "yaml",
        ],
        &["diff", "--git", "HEAD", "examples/fraud", "examples/fraud"],
    ] {
        let o = featc(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .args([
            "-c",
            "user.name=featc",
            "-c",
            "user.email=featc@example.com",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
}

#[test]
fn git_rev_against_the_working_tree() {
    let repo = temp("git");
    copy_feat("examples/fraud", &repo.join("fraud"));
    std::fs::write(repo.join("README"), "not a feat file\n").expect("write");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "fraud"]);

    // Unchanged: 0, from the repository's top and from inside the project.
    let o = featc_in(&repo, &["diff", "--git", "HEAD", "fraud"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("featc diff fraud@HEAD -> fraud (working tree)\n"));
    let o = featc_in(&repo.join("fraud"), &["diff", "--git", "HEAD"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // A served feature's window changes: 1, with the reason.
    edit(
        &repo.join("fraud/features.feat"),
        "count(*) over 1h",
        "count(*) over 2h",
    );
    let o = featc_in(&repo, &["diff", "--git", "HEAD", "fraud"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("changed  txn_count_1h (served by fraud_v1)"),
        "{text}"
    );
    assert!(text.contains("- window 1h -> 2h"), "{text}");
    // One file of the project, by its path.
    let o = featc_in(
        &repo,
        &[
            "diff",
            "--git",
            "HEAD",
            "fraud/features.feat",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "sources.feat is not given: {}",
        stderr(&o)
    );

    // Committed, the change is history: HEAD~1 still sees it, HEAD does not.
    git(&repo, &["commit", "-q", "-am", "2h"]);
    let o = featc_in(
        &repo,
        &["diff", "--git", "HEAD~1", "fraud", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(json["features"][0]["changed"][0]["name"], "txn_count_1h");
    let o = featc_in(&repo, &["diff", "--git", "HEAD", "fraud"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // An unknown revision, a folder without .feat files there: 2.
    let o = featc_in(&repo, &["diff", "--git", "no-such-rev", "fraud"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`no-such-rev` is not a revision"),
        "{}",
        stderr(&o)
    );
    std::fs::create_dir_all(repo.join("empty")).expect("dir");
    std::fs::write(repo.join("empty/x.feat"), "entity e { key k: int64 }\n").expect("write");
    let o = featc_in(&repo, &["diff", "--git", "HEAD", "empty"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no .feat files"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&repo);
}
