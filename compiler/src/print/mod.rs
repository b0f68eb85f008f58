//! Stable, deterministic printers of compiler stages and their products, for
//! `featc build --emit` and snapshots: `ir` (the typed IR), `plan` (the feature
//! plan), `batch` (the DataFusion plan), `stream` (the stream graph).

pub mod batch;
pub mod ir;
pub mod plan;
pub mod stream;
