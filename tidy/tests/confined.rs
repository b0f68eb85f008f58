//! House rules on where a dependency may be named: pest stays in the grammar crate,
//! codespan-reporting in `compiler/src/diagnostics.rs`, `std::fs` in the CLI and IO
//! modules.

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
