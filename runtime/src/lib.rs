//! featc-runtime: the typed IR, the aggregation algebra, the reference interpreter and
//! the batch and streaming executors. It depends on nothing else of featc.

// Bad input must never panic: errors are values (see ARCHITECTURE.md, Invariants).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod agg;
pub mod batch;
pub mod exact;
pub mod expr;
pub mod io;
pub mod ir;
pub mod plan;
mod prefetch;
pub mod reference;
pub mod row;
pub mod snapshot;
pub mod stats;
pub mod stream;
pub mod value;
pub mod window;
