//! One test binary for the grammar's tests: constructs, corpus, errors, fmt, precedence, robustness, snapshots.
//! Each module is one of the files beside this one, one concern each. One binary
//! instead of one per file keeps the link time and the disk use of a build down (each
//! test binary links its dependencies whole). `cargo test -p featc-grammar --test suite
//! MODULE::` runs one module; `tidy/tests/files.rs` checks that no file is left out.

mod constructs;
mod corpus;
mod errors;
mod fmt;
mod precedence;
mod robustness;
mod snapshots;
