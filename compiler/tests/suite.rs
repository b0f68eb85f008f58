//! One test binary for featc's integration tests: the library, the CLI as a process, the server.
//! Each module is one of the files beside this one, one concern each. One binary
//! instead of one per file keeps the link time and the disk use of a build down (each
//! test binary links its dependencies whole). `cargo test -p featc --test suite
//! MODULE::` runs one module; `tests/tests/tidy.rs` checks that no file is left out.

mod cli_common;
mod errors_doc;
mod mutate;
mod project_files;
mod serve_common;
mod services;

mod arroyo_refusals;
mod arroyo_udfs;
mod catalog_snapshots;
mod cli;
mod cli_arroyo;
mod cli_catalog;
mod cli_data;
mod cli_diff;
mod cli_errors;
mod cli_fmt;
mod cli_output;
mod cli_partitions;
mod cli_stats;
mod cli_verify;
mod diagnostics;
mod diff;
mod editor_grammar;
mod groups;
mod import_errors;
mod ir_snapshots;
mod no_panic;
mod readme_commands;
mod render;
mod serve_arrow;
mod serve_cases;
mod serve_crash;
mod serve_kafka;
mod serve_log;
mod serve_redis;
mod serve_requests;
mod sql_refusals;
mod stats_snapshots;
mod typing;
mod verify;
