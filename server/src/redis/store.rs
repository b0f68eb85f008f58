//! A connection to the Redis an online store lives in, and the one way featc writes
//! to it: pipelined transactions that replace whole hashes, so a reader never sees
//! half of a feature vector.

use std::time::Duration;

use featc_runtime::stream::StreamError;

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

/// Where the hashes go: a `redis://HOST:PORT[/DB]` address and a key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTarget {
    pub url: String,
    pub prefix: String,
}

impl RedisTarget {
    /// Checks the address's shape (the connection is made by `RedisStore::connect`).
    pub fn new(url: &str, prefix: &str) -> Result<RedisTarget, RedisError> {
        if !(url.starts_with("redis://") || url.starts_with("unix://")) {
            return Err(RedisError::NotAnAddress(url.to_string()));
        }
        redis::Client::open(url).map_err(|e| RedisError::Address {
            url: url.to_string(),
            message: e.to_string(),
        })?;
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

/// A synchronous connection (each writer owns one).
pub struct RedisStore {
    target: RedisTarget,
    connection: redis::Connection,
    /// The server's `run_id`: a new one after a connection is made again means Redis
    /// restarted, and may have lost what was written.
    run_id: String,
}

impl RedisStore {
    pub fn connect(target: &RedisTarget) -> Result<RedisStore, RedisError> {
        let fail = |e| failed(&target.url, e);
        let client = redis::Client::open(target.url.as_str()).map_err(fail)?;
        let connection = client
            .get_connection_with_timeout(Duration::from_secs(5))
            .map_err(fail)?;
        // A stalled server fails a write instead of hanging its writer forever.
        connection
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(fail)?;
        connection
            .set_write_timeout(Some(Duration::from_secs(30)))
            .map_err(fail)?;
        let mut connection = connection;
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query(&mut connection)
            .map_err(fail)?;
        let run_id = info
            .lines()
            .find_map(|l| l.strip_prefix("run_id:"))
            .unwrap_or_default()
            .trim()
            .to_string();
        Ok(RedisStore {
            target: target.clone(),
            connection,
            run_id,
        })
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
    pub fn write(&mut self, hashes: &[(String, HashWrite)]) -> Result<Written, RedisError> {
        let mut done = Written::default();
        for chunk in hashes.chunks(HASHES_PER_ROUND_TRIP) {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for (key, hash) in chunk {
                pipe.cmd("DEL").arg(key).ignore();
                if hash.expiry == Expiry::Now {
                    done.deleted += 1;
                    continue;
                }
                done.written += 1;
                let hset = pipe.cmd("HSET").arg(key);
                for (field, value) in &hash.fields {
                    hset.arg(&**field).arg(value);
                }
                hset.ignore();
                if let Expiry::AfterMs(ms) = hash.expiry {
                    pipe.cmd("PEXPIRE").arg(key).arg(ms.max(1)).ignore();
                }
            }
            pipe.query::<()>(&mut self.connection)
                .map_err(|e| failed(&self.target.url, e))?;
        }
        Ok(done)
    }
}
