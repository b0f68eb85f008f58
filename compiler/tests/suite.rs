//! One test binary for the featc library's integration tests (the command line's, which
//! run the `featc` binary, are in cli/tests/). Each module is one of the files beside
//! this one, one concern each. One binary instead of one per file keeps the link time
//! and the disk use of a build down (each test binary links its dependencies whole).
//! `cargo test -p featc --test suite MODULE::` runs one module; `tidy/tests/files.rs`
//! checks that no file is left out.

mod errors_doc;
mod mutate;
mod project_files;

mod arroyo_refusals;
mod arroyo_udfs;
mod catalog_snapshots;
mod diagnostics;
mod diff;
mod editor_grammar;
mod groups;
mod import_errors;
mod ir_snapshots;
mod no_panic;
mod render;
mod sql_refusals;
mod typing;
mod verify;
