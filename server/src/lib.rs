//! featc-server: the online half of featc, an HTTP feature server over the streaming
//! runtime (`featc serve`), with durable online state.
//!
//! - `api`: the HTTP routes (Feast's `/get-online-features` and `/push` layouts,
//!   `/health`, `/metrics`), their JSON codecs and errors;
//! - `online`: the shared state every route uses (the runtime's two copies, the
//!   catalog of names, readiness, counters);
//! - `replicas`: the two copies of the runtime that let reads go on while a push is
//!   applied;
//! - `durable`: the write-ahead log (fjall) and the checkpoints that make an
//!   acknowledged push survive any crash;
//! - `embedded`: the same durable state without HTTP, driven from the caller's thread
//!   (the Python package's embedded online store);
//! - `kafka`: Kafka sources, consumed exactly once into the state;
//! - `redis`: Redis as an online store, filled once (`materialize`) or kept current
//!   while serving (the sink);
//! - `served`: what reads served, counted per feature for `/metrics` and handed to
//!   the served log (`durable::served_log`, `--log-served`);
//! - `table_read`: reads for a table of rows, Arrow in and out (the embedded store's);
//! - `serve`: startup, bootstrap, the listener and graceful shutdown.
//!
//! The runtime (`featc-runtime`) does not depend on this crate: an embedder without
//! HTTP uses `StreamRuntime` directly.

pub mod api;
pub mod catalog;
pub mod config;
pub mod durable;
pub mod embedded;
pub mod kafka;
pub mod metrics;
pub mod online;
pub mod redis;
pub mod replicas;
pub mod serve;
pub mod served;
pub mod table_read;
pub mod time;
pub mod writer;

pub use config::{Clock, ServeConfig};
pub use serve::{serve, ServeError, Server};
