//! One test binary for the featc library's integration tests (the command line's, which
//! run the `featc` binary, are in cli/tests/). Each module is one of the files beside
//! this one, one concern each. One binary instead of one per file keeps the link time
//! and the disk use of a build down (each test binary links its dependencies whole).
//! `cargo test -p featc --test suite MODULE::` runs one module; `tidy/tests/files.rs`
//! checks that no file is left out.

// A test binary: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code (clippy.toml already lets the tests themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod errors_doc;
mod mutate;
mod project_files;

mod arroyo;
mod arroyo_refusals;
mod arroyo_staleness;
mod arroyo_udfs;
mod catalog_snapshots;
mod diagnostics;
mod diff;
mod docs_examples;
mod editor_grammar;
mod fmt_ir;
mod groups;
mod import_cases;
mod import_errors;
mod ir_snapshots;
mod long_expressions;
mod no_panic;
mod render;
mod sql;
mod sql_refusals;
mod stage_snapshots;
mod typing;
mod verify;
mod verify_generated;
mod verify_mutations;
mod verify_nested;
