//! featc-runtime: the typed IR, the aggregation algebra, the reference interpreter and
//! the batch and streaming executors. It depends on nothing else of featc.
//!
//! Layers (bottom first): ir | plan, value | row | prefetch, snapshot | exact, reference | agg, stats | window | expr | io | batch, stream
//!
//! A module names only modules on floors below its own (`tidy/tests/layers.rs`): `ir` (the typed
//! IR), `plan` (the feature plan), `value` (a cell's value) and `prefetch` (the one
//! `unsafe` hint); `row` (the row vocabulary both executors share: cells, Arrow
//! types, time, lists, interning); `snapshot` (the state codec), `exact` and `agg`
//! (the algebra); `window` (one entity's window state, and the input encoding that
//! feeds it); `expr` (IR expressions on Arrow batches); `io` (sources, spines,
//! outputs); then the two executors, `batch` and `stream`, which never name each
//! other. `reference` (the oracle) names only `ir`, and `stats` only `exact`.

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
