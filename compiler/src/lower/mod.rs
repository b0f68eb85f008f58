//! Lowerings of the typed IR to executable plans.

pub mod batch;
pub mod stream;
