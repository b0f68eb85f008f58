//! House rules on where a dependency may be named: pest stays in the grammar crate,
//! codespan-reporting in `compiler/src/diagnostics.rs`, `std::fs` in the CLI and IO
//! modules; and tests' scratch folders stay under the target folder.

use featc_tidy::repo::{mentions, read, rust_files, LIBRARY_SOURCES};

#[test]
fn only_the_grammar_crate_names_pest() {
    let outside: Vec<String> = ["pest::", "pest_derive", "use pest", "pest ="]
        .iter()
        .flat_map(|n| mentions(n, true))
        .filter(|hit| !hit.starts_with("grammar/") && !hit.starts_with("Cargo.toml"))
        .collect();
    assert!(outside.is_empty(), "pest outside grammar/: {outside:#?}");
}

#[test]
fn only_the_diagnostics_module_names_codespan_reporting() {
    let outside: Vec<String> = mentions("codespan_reporting", false)
        .into_iter()
        .filter(|hit| !hit.starts_with("compiler/src/diagnostics.rs:"))
        .collect();
    assert!(
        outside.is_empty(),
        "codespan-reporting outside compiler/src/diagnostics.rs: {outside:#?}"
    );
}

#[test]
fn library_code_reads_and_writes_files_only_in_the_cli_and_io_modules() {
    // The CLI (its own crate, `cli/`, not library code) reads and writes data files.
    // The server keeps its state directory (log, checkpoints, identity) in `durable/`
    // and writes its served log's Parquet files in `served/log.rs`;
    // `compiler/src/files.rs` reads a project's `.feat` files for the CLI and
    // embedders.
    const ALLOWED: &[&str] = &[
        "compiler/src/files.rs",
        "runtime/src/io/",
        "server/src/durable/",
        "server/src/served/log.rs",
    ];
    let mut offenders = Vec::new();
    for f in rust_files() {
        let library = LIBRARY_SOURCES.iter().any(|s| f.starts_with(s));
        if !library || ALLOWED.iter().any(|a| f.starts_with(a)) {
            continue;
        }
        for (i, line) in read(&f).lines().enumerate() {
            let grouped = line.contains("use std::{") && line.contains("fs");
            if line.contains("std::fs") || grouped {
                offenders.push(format!("{f}:{}", i + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "std::fs outside the CLI and IO modules: {offenders:#?}"
    );
}

#[test]
fn tests_make_their_scratch_folders_under_the_target_folder() {
    // A test's folder under /tmp named by its PID is never removed, and they pile up on
    // a developer's machine (668 of them once): tests use
    // `featc_test_support::scratch::fresh_dir` under `CARGO_TARGET_TMPDIR`, one path
    // per test, emptied when it starts, inside target/.
    const TEST_FOLDERS: &[&str] = &[
        "cli/tests/",
        "server/tests/",
        "tests/tests/",
        "runtime/tests/",
        "compiler/tests/",
        "support/src/",
    ];
    const TEMPORARY: &[&str] = &["temp_dir()", "\"/tmp", "mkdtemp", "gettempdir"];
    let mut offenders = Vec::new();
    for f in featc_tidy::repo::files() {
        let test = TEST_FOLDERS.iter().any(|d| f.starts_with(d));
        if !test || !(f.ends_with(".rs") || f.ends_with(".py")) {
            continue;
        }
        for (i, line) in read(&f).lines().enumerate() {
            // SeaweedFS makes its sockets in /tmp itself; the test's server guard
            // (cli/tests/services) names them only to delete them.
            let weeds_own = line.contains("/tmp/seaweedfs-");
            if TEMPORARY.iter().any(|t| line.contains(t)) && !weeds_own {
                offenders.push(format!("{f}:{}", i + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "a test folder under the system's temporary folder: {offenders:#?}"
    );
}
