//! A connection to the Redis an online store lives in (one Redis, or a Redis Cluster:
//! `cluster`), and the one way featc writes to it: pipelined transactions that replace
//! whole hashes, so a reader never sees half of a feature vector. The hashes come
//! already spelled as commands (`layout::Packed`); a single Redis can be sent the
//! next transactions before it has answered the last (`send`, then `receive`).

use std::time::Duration;

use featc_runtime::stream::StreamError;

use super::address::{seeds, shown};
use super::cluster::Cluster;
use super::layout::Packed;

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

/// A transaction's first and last command.
pub(super) const MULTI: &[u8] = b"*1\r\n$5\r\nMULTI\r\n";
pub(super) const EXEC: &[u8] = b"*1\r\n$4\r\nEXEC\r\n";

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
    pub fn write(&mut self, hashes: &Packed) -> Result<Written, RedisError> {
        if let Backend::Cluster(cluster) = &mut self.backend {
            return cluster.write(hashes);
        }
        let mut out = Vec::new();
        self.send(hashes, &mut out)?;
        self.receive(hashes)
    }

    /// Whether `send` and `receive` may be used (one Redis: its answers come in the
    /// order it was sent the transactions; a cluster's writes go through `write`).
    pub fn pipelines(&self) -> bool {
        matches!(self.backend, Backend::Single(_))
    }

    /// Sends the transactions that replace `hashes` (as `write`, in one write to
    /// the socket, `out` the room for it) without reading the answers: `receive`
    /// reads them, in the same order. A failed send leaves the connection unusable
    /// (the caller connects again; Redis drops a transaction whose `EXEC` never came).
    pub fn send(&mut self, hashes: &Packed, out: &mut Vec<u8>) -> Result<(), RedisError> {
        let Backend::Single(connection) = &mut self.backend else {
            return Err(self.refused("send"));
        };
        out.clear();
        let mut first = 0;
        while first < hashes.len() {
            let end = (first + HASHES_PER_ROUND_TRIP).min(hashes.len());
            out.extend_from_slice(MULTI);
            out.extend_from_slice(hashes.commands(first..end));
            out.extend_from_slice(EXEC);
            first = end;
        }
        connection
            .send_packed_command(out)
            .map_err(|e| failed(&self.target.url, e))
    }

    /// Reads the answers to `send(hashes)`: every command queued and each `EXEC`
    /// applied, else the first error (after reading the rest of that transaction's
    /// answers).
    pub fn receive(&mut self, hashes: &Packed) -> Result<Written, RedisError> {
        let url = &self.target.url;
        let Backend::Single(connection) = &mut self.backend else {
            return Err(self.refused("receive"));
        };
        let mut done = Written::default();
        for chunk in hashes.hashes().chunks(HASHES_PER_ROUND_TRIP) {
            let queued: usize = chunk.iter().map(|h| h.commands).sum();
            let mut error: Option<String> = None;
            // MULTI's +OK, a +QUEUED per command, then EXEC's answers.
            for _ in 0..queued + 1 {
                let answer = connection.recv_response().map_err(|e| failed(url, e))?;
                if let redis::Value::ServerError(e) = answer {
                    error.get_or_insert_with(|| server_error(&e));
                }
            }
            match connection.recv_response().map_err(|e| failed(url, e))? {
                redis::Value::Array(answers) => {
                    if let Some(e) = answers.iter().find_map(|a| match a {
                        redis::Value::ServerError(e) => Some(server_error(e)),
                        _ => None,
                    }) {
                        error.get_or_insert(e);
                    }
                }
                redis::Value::ServerError(e) => {
                    error.get_or_insert_with(|| server_error(&e));
                }
                other => {
                    error.get_or_insert_with(|| format!("EXEC answered {other:?}"));
                }
            }
            if let Some(message) = error {
                return Err(RedisError::Redis {
                    url: url.clone(),
                    message,
                });
            }
            for hash in chunk {
                if hash.deleted {
                    done.deleted += 1;
                } else {
                    done.written += 1;
                }
            }
        }
        Ok(done)
    }

    fn refused(&self, what: &str) -> RedisError {
        RedisError::Redis {
            url: self.target.url.clone(),
            message: format!("a Redis Cluster is not sent transactions ahead ({what})"),
        }
    }
}

/// A server's error answer as text (`CODE details`).
fn server_error(e: &redis::ServerError) -> String {
    format!("{} {}", e.code(), e.details().unwrap_or_default())
}
