//! Snapshots: the streaming runtime's whole state as bytes, and back
//! (`StreamRuntime::snapshot_to`, `StreamRuntime::restore`), so that a durable server
//! replays only the write-ahead log written after its last checkpoint.
//!
//! Code map: `format` (the frame: magic, version, length, checksum), `writer` and
//! `reader` (the body's primitive encoding; the reader bounds every length and
//! interns strings), `persist` (`Persist`, implemented by each state type beside its
//! fields: `window::KeyState` and its buffer in `window/snapshot.rs`, accumulators
//! through `WindowAccumulator::{save, load}`, aggregation states in `agg` and
//! `exact`), `error` (`SnapshotError`). What the body holds for a runtime, and how a
//! graph is fingerprinted, is `stream::snapshot`'s business.
//!
//! Encoding: a small codec of our own rather than serde: the state is mostly trait
//! objects and private fields, strings must be re-interned on load, and the bulk
//! (the buffered rows) is copied as raw words so restore runs at memory speed.
//! Every number has one explicit encoding (varints, little-endian words), so a
//! snapshot does not depend on the machine that wrote it; it is still no interchange
//! format: only the same format version reads it (`format::VERSION`).

mod error;
pub(crate) mod format;
mod persist;
mod reader;
mod writer;

pub use error::SnapshotError;
pub use format::VERSION;
pub use persist::Persist;
pub use reader::{vec_with_capacity, Reader};
pub use writer::Writer;
