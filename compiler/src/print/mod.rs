//! Stable, deterministic printers of compiler stages, for `featc build --emit` and
//! snapshots.

pub mod ir;
