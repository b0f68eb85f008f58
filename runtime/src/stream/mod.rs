//! The streaming path: the `StreamGraph` a compiled project lowers to, and the
//! executor that ingests events in any order and answers online reads.
//!
//! Code map: `graph` (serde data, loaded from JSON), `runtime` (`StreamRuntime`:
//! ingest, watermarks, late policy, reads), `core` (what reads share with the
//! ingest, and `StreamReader`, which reads while the runtime ingests), `group` (one
//! aggregate node: its group plan's compiled expressions and its `entities`; a
//! batch's columns reach the state through `window::encode_input`), `union` (a group over
//! several sources: each source's batches as the union's rows), `entities` (one
//! `window::KeyState` per entity, in shards, optionally in a disk tier: `Tier`,
//! `StateStore`), `key` (`EntityIndex`: entity keys to ids), `policy`, `metrics`, `dead_letter`,
//! `error`, `read` (what reads return), `replay` (answering a spine from an event
//! log, for `featc replay`), `changes` (entity keys and next-change times, for online
//! stores that mirror the state), `freshness` (a source's lag against its freshness
//! contract), `snapshot` (the runtime's state as bytes and back; the codec is
//! `crate::snapshot`). Cells, interning and Arrow types are `crate::row`'s.
//!
//! Performance (figures in BENCHMARKS.md): `Group::push` resolves a batch's entities
//! first, then prefetches each entity's state a few events ahead while it pushes
//! (see `window`'s docs), because on a large key space those cold loads are a large
//! part of ingest. Ingest does not allocate per row: strings are interned
//! (`row::Interner`: short ones through a small direct-mapped cache, the rest through
//! a bounded set) and rows are encoded into reused buffers.

mod build;
mod changes;
mod core;
mod dead_letter;
mod derived;
mod entities;
mod error;
mod freshness;
pub mod graph;
mod group;
mod key;
mod lookup;
mod metrics;
mod partitions;
mod policy;
mod read;
mod release;
pub mod replay;
mod runtime;
mod snapshot;
mod union;

pub use crate::snapshot::SnapshotError;
pub use core::{StreamReader, TierMetrics};
pub use dead_letter::DeadLetters;
pub use derived::Request;
pub use entities::{MemoryStore, StateStore, StoreError, Tier};
pub use error::{RestoreError, StreamError};
pub use freshness::Freshness;
pub use graph::StreamGraph;
pub use metrics::Metrics;
pub use policy::{LatePolicy, Options, DEFAULT_FOLD_RUN, DEFAULT_MAX_HELD_ROWS};
pub use read::{FeatureValue, FeatureVector, Keys, Read, Selection, Status};
pub use replay::{replay, replay_with_progress, ReplayOptions, ReplayReport};
pub use runtime::StreamRuntime;
