//! One test binary for the grammar's tests: constructs, corpus, errors, fmt, precedence, robustness, snapshots.
//! Each module is one of the files beside this one, one concern each. One binary
//! instead of one per file keeps the link time and the disk use of a build down (each
//! test binary links its dependencies whole). `cargo test -p featc-grammar --test suite
//! MODULE::` runs one module; `tidy/tests/files.rs` checks that no file is left out.

// A test binary: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code (clippy.toml already lets the tests themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod constructs;
mod corpus;
mod errors;
mod fmt;
mod precedence;
mod robustness;
mod snapshots;
