//! Redis as an online store (docs/online-store.md): `layout` (how a feature vector is
//! spelled as a hash), `address` (how the Redis or Redis Cluster is named), `store`
//! (the connection and the pipelined, transactional writes), `cluster` (the same
//! writes spread over a Redis Cluster's nodes), `vectors` (state to hashes),
//! `materialize` (every entity as of one time), `sink` (kept current while serving,
//! from the state's read side and the writer's applied batches) and `sender` (the
//! sink's Redis writes, on their own thread).

pub mod address;
pub mod cluster;
pub mod layout;
pub mod materialize;
pub mod sender;
pub mod sink;
pub mod store;
pub mod vectors;

pub use layout::{HashPlan, DEFAULT_PREFIX};
pub use materialize::materialize;
pub use sink::{SinkCounters, SinkHandle, Sinking};
pub use store::{RedisError, RedisStore, RedisTarget, Written};
