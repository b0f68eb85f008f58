//! featc-runtime: the typed IR, the aggregation algebra, the reference interpreter and
//! the batch and streaming executors. It depends on nothing else of featc.

pub mod ir;
