//! House rules, checked rather than remembered: one test binary, one module per kind
//! of rule (files, the code map, confined dependencies, the crates' dependencies, the
//! crate graph against ARCHITECTURE.md's crate table, the layers inside each crate);
//! what they read the repository with is the crate's library (`tidy/src/`).
//! `cargo test --workspace --test suite -- deps::` runs one kind.

// A test binary: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod architecture;
mod confined;
mod crate_graph;
mod deps;
mod errors;
mod files;
mod layers;
