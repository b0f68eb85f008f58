//! featc on Ballista: the batch training-set plan run by a Ballista cluster.
//!
//! - `codecs`: featc's plan codecs (`featc_runtime::batch::codec`) around Ballista's,
//!   which every process of a cluster (client, scheduler, executors) must share.
//! - `settings`: the session settings a featc plan needs on Ballista, and the
//!   scheduler's session (featc's query planner and optimizer rules).
//! - `remote`: a client session on a scheduler at `df://HOST:PORT`.
//! - `logging`: the binaries' log lines on stderr.
//!
//! The binaries `featc-ballista-scheduler` and `featc-ballista-executor` start
//! Ballista's scheduler and executor processes with them: stock Ballista binaries
//! cannot decode featc's nodes.

pub mod codecs;
pub mod logging;
pub mod remote;
pub mod settings;

pub use remote::{connect, Cluster, RemoteError};
