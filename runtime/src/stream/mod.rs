//! The streaming path: the `StreamGraph` a compiled project lowers to, and the
//! executor that ingests events in any order and answers online reads.
//!
//! Code map: `graph` (serde data, loaded from JSON), `runtime` (`StreamRuntime`:
//! ingest, watermarks, late policy, reads), `group` (one aggregate node: compiled
//! row expressions, key index, one `window::KeyState` per entity), `encode` (a
//! batch's columns in the window state's row encoding), `key`, `intern`
//! (shared string cells), `cells`
//! (Arrow <-> `Value`), `policy`, `metrics`, `dead_letter`, `read` (what reads
//! return), `replay` (answering a spine from an event log, for `featc replay`).

mod cells;
mod dead_letter;
mod encode;
mod error;
pub mod graph;
mod group;
mod intern;
mod key;
mod metrics;
mod policy;
mod read;
pub mod replay;
mod runtime;

pub use cells::{conform, Cells, ValuesBuilder};
pub use dead_letter::DeadLetters;
pub use error::StreamError;
pub use graph::StreamGraph;
pub use metrics::Metrics;
pub use policy::{LatePolicy, Options, DEFAULT_FOLD_RUN};
pub use read::{FeatureValue, FeatureVector, Selection, Status};
pub use replay::{replay, ReplayOptions, ReplayReport};
pub use runtime::StreamRuntime;
