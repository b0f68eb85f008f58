//! featc-runtime: the typed IR, the aggregation algebra, the reference interpreter and
//! the batch and streaming executors. It depends on nothing else of featc.

pub mod ir;
pub mod expr;
pub mod stream;
pub mod io;
pub mod value;
pub mod exact;
pub mod agg;
pub mod window;
pub mod batch;
pub mod reference;
