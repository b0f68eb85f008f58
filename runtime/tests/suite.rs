//! One test binary for the runtime's integration tests: the aggregation algebra's
//! property tests against naive folds, the streaming runtime's reads and snapshots,
//! the reference interpreter's errors, the batch plan's codecs and spine order, and the
//! scalar path of derived features against the batch evaluator.
//! Each module is one of the files beside this one, one concern each. One binary
//! instead of one per file keeps the link time and the disk use of a build down (each
//! test binary links its dependencies whole). `cargo test -p featc-runtime --test suite
//! MODULE::` runs one module; `tidy/tests/files.rs` checks that no file is left out.

// A test binary: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code (clippy.toml already lets the tests themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod algebra_support;

mod algebra_exact;
mod algebra_keystate;
mod algebra_window;
mod batch_codec;
mod batch_spine_order;
mod batch_split_scans;
mod expr_scalar;
mod iceberg_tables;
mod reference_errors;
mod state_footprint;
mod stream_concurrent;
mod stream_expiry;
mod stream_online;
mod stream_snapshot;
mod stream_support;
mod stream_tier_budget;
