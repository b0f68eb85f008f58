//! Lowerings of the typed IR: `groups` (the feature plan every backend consumes),
//! then `batch` (a DataFusion plan) and `stream` (a stream graph), both from it.

pub mod batch;
pub mod entity_graphs;
pub mod groups;
pub mod stream;
