//! featc-server: the online half of featc, an HTTP feature server over the streaming
//! runtime (`featc serve`), with durable online state, and the same state embedded.
//!
//! Layers (bottom first): wire, config, names, slot | durable | served | state | writer, embedded | kafka, redis | metrics | api | group | serve
//!
//! A module names only modules on floors below its own (`tidy/tests/layers.rs`):
//! `wire` (times and JSON cells as clients send them), `config` (flags, and the
//! `StateConfig` the core reads), `names` (the names a client uses, resolved once), `slot` (a part emptied once on
//! stopping);
//! `durable`, the storage formats (write-ahead log on fjall, records, checkpoints,
//! snapshots, identity, the state directory); `served`, what reads served (fill counts)
//! and the served log; `state`, THE CORE, the durable online state: check, log, apply,
//! idempotency, checkpoint, source positions, recovery, and the one read loop, with
//! domain errors; its drivers, `writer` (the server's group-commit thread,
//! `WriterHandle`) and `embedded` (the same state on the caller's thread: the Python
//! package's); the transports, each with narrow handles: `kafka` (sources consumed
//! exactly once), `redis` (an online store, filled once or kept current by the sink),
//! `metrics` (the `/metrics` page), `api` (the only module that knows HTTP); and
//! `serve`: startup, bootstrap, the listener and graceful shutdown.
//!
//! The runtime (`featc-runtime`) does not depend on this crate: an embedder without
//! HTTP uses `StreamRuntime` directly.

pub mod api;
pub mod config;
pub mod durable;
pub mod embedded;
pub mod group;
pub mod kafka;
pub mod metrics;
pub mod names;
pub mod redis;
pub mod serve;
pub mod served;
pub mod slot;
pub mod state;
pub mod wire;
pub mod writer;

pub use config::{Clock, ServeConfig, StateConfig};
pub use serve::{serve, ServeError, Server};
