//! A connection to the Redis an online store lives in (one Redis, or a Redis Cluster:
//! `cluster`), and the one way featc writes to it: pipelined transactions that replace
//! whole hashes, so a reader never sees half of a feature vector.

use std::time::Duration;

use featc_runtime::stream::StreamError;

use super::address::{seeds, shown};
use super::cluster::Cluster;
use super::layout::{Expiry, HashWrite};

/// Why Redis could not be used (or, filling it, the state could not be read).
#[derive(Debug, Clone, PartialEq)]
pub enum RedisError {
    /// The address is not a `redis://` (or `unix://`) one.
    NotAnAddress(String),
    /// The client refused the address (the address, its reason).
    Address { url: String, message: String },
    /// Redis failed or did not answer (the address, the client's reason).
    Redis { url: String, message: String },
    /// A list of seed nodes names a Redis that is not in cluster mode.
    NotACluster { url: String, node: String },
    /// Reading the state for the hashes failed.
    Read(StreamError),
    /// A thread of the sink could not be started (which one, the system's reason).
    Thread { what: &'static str, message: String },
}

impl std::fmt::Display for RedisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedisError::NotAnAddress(url) => write!(
                f,
                "`{url}` is not a Redis address: give redis://HOST:PORT[/DB]"
            ),
            RedisError::Address { url, message } => write!(f, "`{url}`: {message}"),
            RedisError::Redis { url, message } => write!(f, "Redis at {url}: {message}"),
            RedisError::NotACluster { url, node } => write!(
                f,
                "`{url}` lists several nodes, but {node} is not a Redis Cluster node \
                 (cluster_enabled:0): give one redis://HOST:PORT for a single Redis"
            ),
            RedisError::Read(e) => write!(f, "{e}"),
            RedisError::Thread { what, message } => {
                write!(f, "cannot start the Redis {what} thread: {message}")
            }
        }
    }
}

impl std::error::Error for RedisError {}

/// Redis's failure at `url`.
fn failed(url: &str, e: redis::RedisError) -> RedisError {
    RedisError::Redis {
        url: url.to_string(),
        message: e.to_string(),
    }
}

/// Where the hashes go: a `redis://HOST:PORT[/DB]` address (or a cluster's seed
/// nodes, `address::seeds`) and a key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTarget {
    pub url: String,
    pub prefix: String,
}

impl RedisTarget {
    /// Checks the address's shape (the connection is made by `RedisStore::connect`).
    pub fn new(url: &str, prefix: &str) -> Result<RedisTarget, RedisError> {
        seeds(url)?;
        Ok(RedisTarget {
            url: url.to_string(),
            prefix: prefix.to_string(),
        })
    }
}

/// What a write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Hashes written.
    pub written: u64,
    /// Keys deleted because every feature of the hash was null (each view's ttl had
    /// run out).
    pub deleted: u64,
}

/// Hashes per transaction: a pipeline of this many hashes is one round trip and one
/// MULTI/EXEC.
pub const HASHES_PER_ROUND_TRIP: usize = 512;

/// A synchronous connection (each writer owns one): to one Redis, or to each primary
/// of a Redis Cluster.
pub struct RedisStore {
    target: RedisTarget,
    backend: Backend,
    /// The server's `run_id` (a cluster's primaries' joined): a new one after a
    /// connection is made again means Redis restarted, and may have lost what was
    /// written.
    run_id: String,
}

enum Backend {
    Single(redis::Connection),
    Cluster(Cluster),
}

/// A connection to the Redis at `url`, with timeouts: a stalled server fails a write
/// instead of hanging its writer forever.
pub(super) fn open(url: &str) -> Result<redis::Connection, RedisError> {
    let fail = |e| failed(&shown(url), e);
    let client = redis::Client::open(url).map_err(fail)?;
    let connection = client
        .get_connection_with_timeout(Duration::from_secs(5))
        .map_err(fail)?;
    connection
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(fail)?;
    connection
        .set_write_timeout(Some(Duration::from_secs(30)))
        .map_err(fail)?;
    Ok(connection)
}

/// A section of `INFO` (`url` for messages).
fn info(
    connection: &mut redis::Connection,
    section: &str,
    url: &str,
) -> Result<String, RedisError> {
    redis::cmd("INFO")
        .arg(section)
        .query(connection)
        .map_err(|e| failed(url, e))
}

/// The server's `run_id`.
pub(super) fn run_id(connection: &mut redis::Connection, url: &str) -> Result<String, RedisError> {
    let info = info(connection, "server", url)?;
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("run_id:"))
        .unwrap_or_default()
        .trim()
        .to_string())
}

/// Queues on `pipe` the commands that replace `key`'s hash with `hash`: `DEL`, then
/// (unless the hash is deleted) `HSET` of its fields and `PEXPIRE` when it expires.
/// Returns how many commands were queued. Both backends write a hash this way, each
/// inside a transaction of its own making.
pub(super) fn queue_replace(pipe: &mut redis::Pipeline, key: &str, hash: &HashWrite) -> usize {
    pipe.cmd("DEL").arg(key);
    if hash.expiry == Expiry::Now {
        return 1;
    }
    let hset = pipe.cmd("HSET").arg(key);
    for (field, value) in &hash.fields {
        hset.arg(&**field).arg(value);
    }
    match hash.expiry {
        Expiry::AfterMs(ms) => {
            pipe.cmd("PEXPIRE").arg(key).arg(ms.max(1));
            3
        }
        _ => 2,
    }
}

impl RedisStore {
    /// Connects to the first node of the address that answers; when it is in cluster
    /// mode, to every primary of its cluster.
    pub fn connect(target: &RedisTarget) -> Result<RedisStore, RedisError> {
        let seeds = seeds(&target.url)?;
        let mut last = None;
        for (s, seed) in seeds.iter().enumerate() {
            let shown = shown(seed);
            let mut connection = match open(seed) {
                Ok(c) => c,
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            let cluster = info(&mut connection, "cluster", &shown)?
                .lines()
                .any(|l| l.trim() == "cluster_enabled:1");
            let (backend, run_id) = if cluster {
                // (A `/DB` other than 0 failed above: the cluster refuses SELECT.)
                let (cluster, run_id) =
                    Cluster::connect(&target.url, seeds.clone(), s, connection)?;
                (Backend::Cluster(cluster), run_id)
            } else if seeds.len() > 1 {
                return Err(RedisError::NotACluster {
                    url: target.url.clone(),
                    node: shown,
                });
            } else {
                let run_id = run_id(&mut connection, &shown)?;
                (Backend::Single(connection), run_id)
            };
            return Ok(RedisStore {
                target: target.clone(),
                backend,
                run_id,
            });
        }
        Err(last.unwrap_or_else(|| RedisError::NotAnAddress(target.url.clone())))
    }

    /// Whether the store is a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.backend, Backend::Cluster(_))
    }

    /// The Redis server's run id when this connection was made.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    /// Replaces each key's hash with its fields (or deletes the key), in transactions
    /// of `HASHES_PER_ROUND_TRIP` hashes: `DEL`, `HSET`, then `PEXPIRE` when the hash
    /// expires. Returns once Redis has applied every one, with how many hashes were
    /// written and how many keys deleted; on an error, the hashes of the failed
    /// transaction and after it may not be written (writing them again is harmless).
    /// In a cluster each hash is its own transaction (`Cluster::write`).
    pub fn write(&mut self, hashes: &[(String, HashWrite)]) -> Result<Written, RedisError> {
        let connection = match &mut self.backend {
            Backend::Single(connection) => connection,
            Backend::Cluster(cluster) => return cluster.write(hashes),
        };
        let mut done = Written::default();
        for chunk in hashes.chunks(HASHES_PER_ROUND_TRIP) {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (key, hash) in chunk {
                queue_replace(&mut pipe, key, hash);
                match hash.expiry {
                    Expiry::Now => done.deleted += 1,
                    _ => done.written += 1,
                }
            }
            pipe.query::<()>(connection)
                .map_err(|e| failed(&self.target.url, e))?;
        }
        Ok(done)
    }
}
