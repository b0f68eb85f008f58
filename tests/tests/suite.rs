//! One test binary for the cross-crate tests: cases, stage snapshots, equivalence, SQL, Arroyo, house rules.
//! Each module is one of the files beside this one, one concern each. One binary
//! instead of one per file keeps the link time and the disk use of a build down (each
//! test binary links its dependencies whole). `cargo test -p featc-tests --test suite
//! MODULE::` runs one module; `tidy/tests/files.rs` checks that no file is left out.

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
mod verify_generated;
