//! House rules, checked rather than remembered: one test binary, one module per kind
//! of rule (files, the code map, confined dependencies, the crates' dependencies);
//! what they read the repository with is the crate's library (`tidy/src/`).
//! `cargo test --workspace --test suite -- deps::` runs one kind.

mod architecture;
mod confined;
mod deps;
mod files;
