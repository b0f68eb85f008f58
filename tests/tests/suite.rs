//! One test binary for the cross-crate tests: cases, stage snapshots, equivalence, SQL, Arroyo, house rules.
//! Each module is one of the files beside this one, one concern each. One binary
//! instead of one per file keeps the link time and the disk use of a build down (each
//! test binary links its dependencies whole). `cargo test -p featc-tests --test suite
//! MODULE::` runs one module; `tests/tests/tidy.rs` checks that no file is left out.

// A test binary: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code (clippy.toml already lets the tests themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod batch_common;
mod sql_common;
mod stream_common;

mod arroyo;
mod arroyo_staleness;
mod batch_cases;
mod batch_codec;
mod batch_spine_order;
mod docs_examples;
mod equivalence;
mod fmt_ir;
mod import_cases;
mod long_expressions;
mod reference_cases;
mod reference_errors;
mod sql;
mod sql_equivalence;
mod stage_snapshots;
mod stream_cases;
mod stream_online;
mod stream_snapshot;
mod tidy;
mod verify_generated;
