//! The `featc` binary: exit codes, where output goes, `--emit` and `--out`.

use std::path::PathBuf;

use crate::cli_common;

use cli_common::{featc, stderr};

#[test]
fn check_clean_project_exits_0_with_a_summary() {
    let o = featc(&["check", "tests/cases/marketplace"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "ok: 1 files, 2 sources, 2 entities, 3 views, 22 features, 1 services\n"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn check_with_errors_exits_1_with_plain_diagnostics() {
    let o = featc(&[
        "check",
        "compiler/tests/diagnostics/E0004_unknown_column.feat",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("error[E0004]: unknown column `amout`"),
        "{err}"
    );
    assert!(
        err.contains("compiler/tests/diagnostics/E0004_unknown_column.feat:8:33"),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "no color when stderr is not a terminal"
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(featc(&["check", "no/such/dir"]).status.code(), Some(2));
    assert_eq!(featc(&["check"]).status.code(), Some(2));
    assert_eq!(
        featc(&["build", "tests/cases/synthetic", "--emit", "nope"])
            .status
            .code(),
        Some(2)
    );
    let o = featc(&["check", "runtime/src"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no .feat files"), "{}", stderr(&o));
}

#[test]
fn build_emits_ir_to_stdout_or_a_file() {
    let o = featc(&["build", "tests/cases/synthetic", "--emit", "ir"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ir = String::from_utf8(o.stdout).expect("utf-8");
    assert!(
        ir.contains("view user_txn from events by user (user_id)"),
        "{ir}"
    );

    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("featc-cli-build");
    let _ = std::fs::remove_dir_all(&out);
    let o = featc(&[
        "build",
        "tests/cases/synthetic",
        "--emit",
        "ir",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(out.join("ir.txt")).expect("written"),
        ir
    );
}

#[test]
fn build_emits_ast() {
    let o = featc(&[
        "build",
        "tests/cases/synthetic/features.feat",
        "--emit",
        "ast",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ast = String::from_utf8(o.stdout).expect("utf-8");
    assert!(ast.contains("user_txn"), "{ast}");
}

#[test]
fn build_with_errors_exits_1_and_prints_nothing() {
    let o = featc(&[
        "build",
        "compiler/tests/diagnostics/E0013_sum_of_string.feat",
        "--emit",
        "ir",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("E0013"));
}

/// A fresh folder for one test's files.
fn scratch(name: &str) -> PathBuf {
    cli_common::scratch(name)
}

#[test]
fn a_file_that_is_not_utf8_is_a_diagnostic_with_its_position() {
    let dir = scratch("featc-cli-not-utf8");
    // `é` saved as Latin-1 (0xE9), in one file; a syntax error in another.
    std::fs::write(
        dir.join("a.feat"),
        b"source events {\n    time ts\n    owner \"caf\xe9\"\n}\n",
    )
    .expect("written");
    std::fs::write(dir.join("b.feat"), "entity user { key user_id int64 }\n").expect("written");
    let o = featc(&["check", dir.to_str().expect("utf-8 path")]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("a.feat` is not valid UTF-8: byte 0xE9 at byte offset 42 (line 3, column 15)"),
        "{err}"
    );
    assert!(err.contains("a.feat:3:15"), "{err}");
    assert!(
        err.contains("help: featc reads .feat files as UTF-8; re-save the file as UTF-8"),
        "{err}"
    );
    // The other file's syntax errors come in the same run.
    assert!(
        err.contains("error[E0001]") && err.contains("b.feat:1:27"),
        "{err}"
    );
    assert!(err.ends_with("error: 2 errors found\n"), "{err}");
}

#[test]
fn a_missing_file_stays_an_io_error() {
    let o = featc(&["check", "no/such/file.feat"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: cannot read `no/such/file.feat`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn control_characters_in_a_file_never_reach_the_terminal_raw() {
    let dir = scratch("featc-cli-escape");
    let file = dir.join("esc.feat");
    // Clears the screen and sets the window title, if printed raw.
    std::fs::write(
        &file,
        "source s {\n    time ts\n    \u{1b}[2J\u{1b}]0;pwned\u{7}\n}\n",
    )
    .expect("written");
    let o = featc(&["check", file.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!o.stderr.contains(&0x1b), "{:?}", stderr(&o));
    assert!(!o.stderr.contains(&0x07), "{:?}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("unexpected `\\u{1b}`"), "{err}");
    assert!(err.contains("␛[2J␛]0;pwned␇"), "{err}");
}
