//! One test binary for the cross-path equivalence: reference = batch = stream = SQL,
//! on the acceptance cases (each path against the case's expected result and the
//! others) and on generated projects and data. A test of one crate's behaviour lives
//! in that crate's tests; the helpers all share are in `support/` (featc-test-support).
//! Each module is one of the files beside this one, one concern each. One binary
//! instead of one per file keeps the link time and the disk use of a build down (each
//! test binary links its dependencies whole). `cargo test -p featc-tests --test suite
//! MODULE::` runs one module; `tidy/tests/files.rs` checks that no file is left out.

// A test binary: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code (clippy.toml already lets the tests themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod batch_cases;
mod dates;
mod decimals;
mod embeddings;
mod equivalence;
mod float_keys;
mod in_lists;
mod lookups;
mod lookups_online;
mod nan_order;
mod nested;
mod partitions;
mod pruning;
mod reference_cases;
mod served_audit;
mod sql_equivalence;
mod stream_cases;
mod union_views;
