//! Every data or run-time error names where it comes from, and `training-set` and
//! `replay` say the same thing about the same data: the file and line (CSV, header =
//! line 1) or row (Parquet), the column and the cell; a file that is not what it
//! claims; the feature or expression, the entity and the ISO time of a failure while
//! computing. Both read and check the same columns: those the features read.

use std::path::{Path, PathBuf};

use crate::cli_common;

use cli_common::{featc, stderr};

fn scratch(test: &str) -> PathBuf {
    cli_common::scratch(&format!("cli_errors/{test}"))
}

const SPINE: &str = "examples/fraud/data/spine.csv";

fn repo(rel: &str) -> PathBuf {
    featc_test_support::paths::repo_root().join(rel)
}

/// The fraud transactions with cell `column` of file line `line` replaced (line 1
/// is the header), written to `dir/name`.
fn transactions_with(dir: &Path, name: &str, line: usize, column: usize, cell: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo("examples/fraud/data/transactions.csv"))
        .expect("transactions");
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let l = l.trim_end_matches('\r');
            if i + 1 == line {
                let mut cells: Vec<&str> = l.split(',').collect();
                cells[column] = cell;
                cells.join(",")
            } else {
                l.to_string()
            }
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    path
}

/// Runs both commands with `args` (a transactions override and a spine) and returns
/// their stderr, after checking both failed with exit 2 and said the same thing.
fn both_fail(dir: &Path, transactions: &Path, spine: &str) -> String {
    let mut said = Vec::new();
    for command in ["training-set", "replay"] {
        let out = dir.join(format!("{command}.csv")).display().to_string();
        let o = featc(&[
            command,
            "examples/fraud",
            "--spine",
            spine,
            "--source",
            &format!("transactions={}", transactions.display()),
            "--out",
            &out,
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(2), "{command}: {}", stderr(&o));
        said.push(stderr(&o));
    }
    assert_eq!(said[0], said[1], "training-set and replay disagree");
    said.remove(0)
}

#[test]
fn a_bad_csv_cell_is_named_by_file_line_and_column() {
    let dir = scratch("cell");
    let tx = transactions_with(&dir, "tx.csv", 7, 3, "twelve");
    let err = both_fail(&dir, &tx, SPINE);
    assert!(
        err.contains("tx.csv:7, column `amount`: cannot read 'twelve' as float64"),
        "{err}"
    );
    let tx = transactions_with(&dir, "ts.csv", 4, 2, "2024-13-45T00:00:00Z");
    let err = both_fail(&dir, &tx, SPINE);
    assert!(
        err.contains("ts.csv:4, column `ts`: cannot read '2024-13-45T00:00:00Z' as timestamp"),
        "{err}"
    );
}

#[test]
fn a_record_with_the_wrong_number_of_fields_is_named_by_its_line() {
    let dir = scratch("fields");
    let tx = transactions_with(&dir, "tx.csv", 5, 5, "true,surplus");
    let err = both_fail(&dir, &tx, SPINE);
    assert!(
        err.contains("tx.csv:5: incorrect number of fields: expected 6 got 7"),
        "{err}"
    );
}

#[test]
fn a_header_naming_a_column_twice_and_a_corrupt_parquet_file_are_named() {
    let dir = scratch("files");
    let tx = transactions_with(&dir, "dup.csv", 1, 4, "amount");
    let err = both_fail(&dir, &tx, SPINE);
    assert!(
        err.contains("dup.csv`: the header names column `amount` twice"),
        "{err}"
    );
    let corrupt = dir.join("tx.parquet");
    std::fs::write(&corrupt, b"PAR1 not really").expect("write");
    let err = both_fail(&dir, &corrupt, SPINE);
    assert!(
        err.contains("tx.parquet`: not a readable Parquet file"),
        "{err}"
    );
}

#[test]
fn spine_errors_count_lines_like_source_errors() {
    let dir = scratch("spine");
    let text = std::fs::read_to_string(repo(SPINE)).expect("spine");
    let spine: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == 4 {
                let mut cells: Vec<&str> = l.split(',').collect();
                cells[2] = "nope";
                cells.join(",")
            } else {
                l.to_string()
            }
        })
        .collect();
    let path = dir.join("spine.csv");
    std::fs::write(&path, spine.join("\n") + "\n").expect("write");
    let tx = repo("examples/fraud/data/transactions.csv");
    let err = both_fail(&dir, &tx, &path.display().to_string());
    assert!(
        err.contains("spine: ") && err.contains("spine.csv:4, column `ts`: cannot read 'nope'"),
        "{err}"
    );
}

#[test]
fn booleans_are_read_only_in_their_documented_spellings() {
    let dir = scratch("bool");
    let tx = transactions_with(&dir, "ye.csv", 3, 5, "ye");
    let err = both_fail(&dir, &tx, SPINE);
    assert!(
        err.contains("ye.csv:3, column `is_mobile`: cannot read 'ye' as bool"),
        "{err}"
    );
    for spelling in ["TRUE", "f", "0", "True"] {
        let tx = transactions_with(&dir, "ok.csv", 3, 5, spelling);
        let out = dir.join("ok_out.csv").display().to_string();
        let o = featc(&[
            "training-set",
            "examples/fraud",
            "--spine",
            SPINE,
            "--source",
            &format!("transactions={}", tx.display()),
            "--out",
            &out,
            "-q",
        ]);
        assert!(o.status.success(), "{spelling}: {}", stderr(&o));
    }
}

#[test]
fn a_column_no_feature_reads_is_neither_required_nor_checked_by_either_path() {
    let dir = scratch("unread");
    // Only `txn_count_1h` (count(*) of `user_spend`, whose `where` reads `amount`):
    // `is_mobile` is not read; make it unreadable.
    let tx = transactions_with(&dir, "tx.csv", 3, 5, "not a bool");
    for command in ["training-set", "replay"] {
        let out = dir.join(format!("{command}.csv")).display().to_string();
        let o = featc(&[
            command,
            "examples/fraud",
            "--spine",
            SPINE,
            "--features",
            "txn_count_1h",
            "--source",
            &format!("transactions={}", tx.display()),
            "--out",
            &out,
            "-q",
        ]);
        assert!(o.status.success(), "{command}: {}", stderr(&o));
    }
    // Read by another feature, the same cell stops both.
    let err = both_fail(&dir, &tx, SPINE);
    assert!(err.contains("column `is_mobile`"), "{err}");
}

#[test]
fn failures_while_computing_name_the_feature_entity_and_iso_time_on_both_paths() {
    let dir = scratch("compute");
    let project = dir.join("p");
    std::fs::create_dir_all(&project).expect("project");
    std::fs::write(
        project.join("p.feat"),
        "source ev {
    time ts
    columns { user_id: int64  i: int64? }
}
entity user { key user_id: int64 }
view v from ev by user {
    feature s = sum(i) over 1h
}
view w from ev by user {
    let big = i * 4611686018427387904
    feature b = max(big) over 1h
}
view x from ev by user {
    feature a = max(abs(-i - 1)) over 1h
}
",
    )
    .expect("feat");
    let events = project.join("ev.csv");
    std::fs::write(
        &events,
        "ts,user_id,i\n2024-01-01T00:00:00Z,1,9223372036854775807\n2024-01-01T00:00:01Z,1,1\n",
    )
    .expect("events");
    let spine = project.join("spine.csv");
    std::fs::write(&spine, "user_id,ts\n1,2024-01-01T00:00:05Z\n").expect("spine");
    for (feature, expected) in [
        (
            "s",
            "feature `s` for user_id = 1 at 2024-01-01T00:00:05Z: sum: integer result overflows int64",
        ),
        (
            "b",
            "source `ev`, event at 2024-01-01T00:00:00Z (user_id = 1): the argument of feature `b` (view `w`): int64 overflow",
        ),
        (
            "a",
            "source `ev`, event at 2024-01-01T00:00:00Z (user_id = 1): the argument of feature `a` (view `x`): int64 overflow: abs(-9223372036854775808) does not fit in int64",
        ),
    ] {
        let mut said = Vec::new();
        for command in ["training-set", "replay"] {
            let out = dir.join("o.csv").display().to_string();
            let o = featc(&[
                command,
                &project.display().to_string(),
                "--spine",
                &spine.display().to_string(),
                "--source",
                &format!("ev={}", events.display()),
                "--features",
                feature,
                "--out",
                &out,
                "-q",
            ]);
            assert_eq!(o.status.code(), Some(2), "{command}: {}", stderr(&o));
            said.push(stderr(&o));
        }
        assert_eq!(said[0], said[1]);
        assert!(said[0].contains(expected), "{}", said[0]);
    }
}
