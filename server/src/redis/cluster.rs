//! Writing hashes to a Redis Cluster: each hash replaced in its own `MULTI`/`EXEC`
//! (a hash is one key, so one slot: the transaction the cluster allows), the
//! transactions of one node sent in one pipeline. The slot of a key is the `redis`
//! crate's (`cluster_routing::Slot`: CRC16 and `{hash tag}`s); the owner of each slot
//! comes from `CLUSTER SLOTS`. A hash the cluster redirects (`MOVED` after a
//! resharding or a failover, `ASK` while its slot migrates, `TRYAGAIN`,
//! `CLUSTERDOWN`) is sent again, after the slot map is read again, a bounded number of
//! times. The crate's own cluster connection is not used for the writes: its
//! pipelines do not run transactions.

use std::collections::HashMap;
use std::time::Duration;

use redis::cluster_routing::Slot;
use redis::{ConnectionLike, Value};

use super::address::{host_of, node_url, shown};
use super::layout::Packed;
use super::store::{open, run_id, RedisError, Written, EXEC, HASHES_PER_ROUND_TRIP, MULTI};

/// Hash slots in a Redis Cluster.
const SLOTS: u16 = 16384;
/// Tries of a redirected hash before the write fails (about 1.3 s of waiting).
const ROUNDS: u32 = 7;

/// A cluster node: its URL and, once used, a connection.
struct Node {
    url: String,
    connection: Option<redis::Connection>,
}

/// A connection to every primary node of a cluster and who serves which slot.
pub struct Cluster {
    /// The address the user gave, for messages.
    address: String,
    seeds: Vec<String>,
    nodes: Vec<Node>,
    owner: HashMap<Slot, usize>,
}

/// What a hash's transaction came to.
enum Reply {
    Done,
    /// Send it again (to this `HOST:PORT`, with `ASKING`, when the slot is migrating).
    Again {
        ask: Option<String>,
        why: String,
    },
    Failed(String),
}

impl Cluster {
    /// The cluster `connection` (to `seeds[seed]`) belongs to, with a connection to
    /// each primary, and the joined run ids of the primaries (another one after a
    /// reconnection means some node restarted).
    pub fn connect(
        address: &str,
        seeds: Vec<String>,
        seed: usize,
        connection: redis::Connection,
    ) -> Result<(Cluster, String), RedisError> {
        let url = seeds.get(seed).cloned().unwrap_or_default();
        let mut cluster = Cluster {
            address: address.to_string(),
            seeds,
            nodes: vec![Node {
                url,
                connection: Some(connection),
            }],
            owner: HashMap::new(),
        };
        cluster.refresh()?;
        let mut ids = Vec::with_capacity(cluster.nodes.len());
        for n in 0..cluster.nodes.len() {
            let url = cluster.nodes[n].url.clone();
            ids.push(run_id(cluster.connection(n)?, &shown(&url))?);
        }
        ids.sort();
        Ok((cluster, ids.join(",")))
    }

    /// Reads the slot map again from the first node (known, then seed) that answers.
    fn refresh(&mut self) -> Result<(), RedisError> {
        let mut last = None;
        let known: Vec<String> = self.nodes.iter().map(|n| n.url.clone()).collect();
        let candidates = known.iter().chain(self.seeds.iter()).cloned();
        for url in candidates.collect::<Vec<_>>() {
            let slots = match self.node_of(&url) {
                Some(n) => self.connection(n).and_then(|c| slot_ranges(c, &url)),
                None => open(&url).and_then(|mut c| slot_ranges(&mut c, &url)),
            };
            match slots {
                Ok(ranges) => return self.install(ranges, &url),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| RedisError::Redis {
            url: self.address.clone(),
            message: "no node of the cluster answered".into(),
        }))
    }

    /// Takes a slot map: (first slot, last slot, host, port) ranges, `asked` the URL of
    /// the node that gave it (whose host an empty host means).
    fn install(
        &mut self,
        ranges: Vec<(u16, u16, String, u16)>,
        asked: &str,
    ) -> Result<(), RedisError> {
        let template = self.seeds.first().cloned().unwrap_or_default();
        self.owner.clear();
        for (first, last, host, port) in ranges {
            let host = if host.is_empty() {
                host_of(asked)
            } else {
                host
            };
            let url = node_url(&template, &host, port);
            let n = self.node_or_new(&url);
            for slot in first..=last.min(SLOTS - 1) {
                if let Some(slot) = Slot::new(slot) {
                    self.owner.insert(slot, n);
                }
            }
        }
        if self.owner.is_empty() {
            return Err(RedisError::Redis {
                url: self.address.clone(),
                message: "the cluster serves no hash slot (is it created?)".into(),
            });
        }
        Ok(())
    }

    /// The URL of the node an `ASK` names (`HOST:PORT`).
    fn ask_url(&self, to: &str) -> String {
        let template = self.seeds.first().map_or("", String::as_str);
        match to.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>())) {
            Some((host, Ok(port))) => node_url(template, host, port),
            _ => format!("redis://{to}"),
        }
    }

    fn node_of(&self, url: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.url == url)
    }

    fn node_or_new(&mut self, url: &str) -> usize {
        self.node_of(url).unwrap_or_else(|| {
            self.nodes.push(Node {
                url: url.to_string(),
                connection: None,
            });
            self.nodes.len() - 1
        })
    }

    /// Node `n`'s connection, made when there is none.
    fn connection(&mut self, n: usize) -> Result<&mut redis::Connection, RedisError> {
        let node = self.nodes.get_mut(n).ok_or_else(|| RedisError::Redis {
            url: String::new(),
            message: "no such cluster node".into(),
        })?;
        if node.connection.is_none() {
            node.connection = Some(open(&node.url)?);
        }
        node.connection.as_mut().ok_or_else(|| RedisError::Redis {
            url: shown(&node.url),
            message: "no connection".into(),
        })
    }

    /// Replaces each key's hash (or deletes the key) as `RedisStore::write` does, one
    /// transaction per hash, a pipeline of at most `HASHES_PER_ROUND_TRIP` hashes per
    /// node and round trip.
    pub fn write(&mut self, hashes: &Packed) -> Result<Written, RedisError> {
        let mut done = Written::default();
        let mut todo: Vec<(usize, Option<String>)> = (0..hashes.len()).map(|i| (i, None)).collect();
        let mut why = String::new();
        for round in 0..ROUNDS {
            if round > 0 {
                std::thread::sleep(Duration::from_millis(10 << round));
                self.refresh()?;
            }
            let mut by_node: Vec<Vec<(usize, bool)>> = vec![Vec::new(); self.nodes.len()];
            let mut again = Vec::new();
            for (i, ask) in todo {
                let node = match &ask {
                    Some(to) => {
                        let url = self.ask_url(to);
                        Some(self.node_or_new(&url))
                    }
                    None if i < hashes.len() => {
                        self.owner.get(&Slot::for_key(hashes.key(i))).copied()
                    }
                    None => None,
                };
                by_node.resize(self.nodes.len(), Vec::new());
                match node.and_then(|n| by_node.get_mut(n)) {
                    Some(list) => list.push((i, ask.is_some())),
                    None => {
                        why = "a key's slot is served by no node".into();
                        again.push((i, None));
                    }
                }
            }
            for (n, list) in by_node.iter().enumerate() {
                for chunk in list.chunks(HASHES_PER_ROUND_TRIP) {
                    self.send(n, chunk, hashes, &mut done, &mut again, &mut why)?;
                }
            }
            if again.is_empty() {
                return Ok(done);
            }
            todo = again;
        }
        Err(RedisError::Redis {
            url: self.address.clone(),
            message: format!("hashes still redirected after {ROUNDS} tries: {why}"),
        })
    }

    /// One round trip to node `n`: a transaction per hash of `chunk` (hash index, with
    /// `ASKING`). Hashes to send again go to `again`.
    fn send(
        &mut self,
        n: usize,
        chunk: &[(usize, bool)],
        hashes: &Packed,
        done: &mut Written,
        again: &mut Vec<(usize, Option<String>)>,
        why: &mut String,
    ) -> Result<(), RedisError> {
        const ASKING: &[u8] = b"*1\r\n$6\r\nASKING\r\n";
        let mut packed = Vec::new();
        let mut spans = Vec::with_capacity(chunk.len());
        let mut count = 0;
        for &(i, asking) in chunk {
            let Some(hash) = hashes.hashes().get(i) else {
                continue;
            };
            let first = count;
            if asking {
                packed.extend_from_slice(ASKING);
                count += 1;
            }
            packed.extend_from_slice(MULTI);
            packed.extend_from_slice(hashes.commands(i..i + 1));
            packed.extend_from_slice(EXEC);
            count += 2 + hash.commands;
            spans.push((i, first, count));
        }
        if spans.is_empty() {
            return Ok(());
        }
        let url = self
            .nodes
            .get(n)
            .map(|node| shown(&node.url))
            .unwrap_or_default();
        let replies = match self.connection(n)?.req_packed_commands(&packed, 0, count) {
            Ok(replies) => replies,
            Err(e) => {
                if let Some(node) = self.nodes.get_mut(n) {
                    node.connection = None;
                }
                return Err(RedisError::Redis {
                    url,
                    message: e.to_string(),
                });
            }
        };
        for (i, first, end) in spans {
            match reply(replies.get(first..end).unwrap_or(&[])) {
                Reply::Done => match hashes.hashes().get(i).map(|h| h.deleted) {
                    Some(true) => done.deleted += 1,
                    _ => done.written += 1,
                },
                Reply::Again { ask, why: reason } => {
                    *why = reason;
                    again.push((i, ask));
                }
                Reply::Failed(message) => return Err(RedisError::Redis { url, message }),
            }
        }
        Ok(())
    }
}

/// What the replies of one hash's commands (the last one `EXEC`'s) say.
fn reply(replies: &[Value]) -> Reply {
    if let Some(Value::Array(_)) = replies.last() {
        return Reply::Done;
    }
    for r in replies {
        let Value::ServerError(e) = r else { continue };
        let why = format!("{} {}", e.code(), e.details().unwrap_or_default());
        match e.code() {
            "MOVED" | "TRYAGAIN" | "CLUSTERDOWN" | "LOADING" => {
                return Reply::Again { ask: None, why }
            }
            "ASK" => {
                let to = e.details().and_then(|d| d.split_whitespace().nth(1));
                return Reply::Again {
                    ask: to.map(str::to_string),
                    why,
                };
            }
            "EXECABORT" => continue,
            _ => return Reply::Failed(why),
        }
    }
    Reply::Failed("the transaction was not applied".into())
}

/// `CLUSTER SLOTS` of the node at `url`: (first slot, last slot, primary host, port).
fn slot_ranges(
    connection: &mut redis::Connection,
    url: &str,
) -> Result<Vec<(u16, u16, String, u16)>, RedisError> {
    let fail = |message: String| RedisError::Redis {
        url: shown(url),
        message,
    };
    let ranges: Vec<Vec<Value>> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query(connection)
        .map_err(|e| fail(e.to_string()))?;
    let mut out = Vec::with_capacity(ranges.len());
    for range in ranges {
        let parsed = (|| {
            let first: u16 = redis::from_redis_value_ref(range.first()?).ok()?;
            let last: u16 = redis::from_redis_value_ref(range.get(1)?).ok()?;
            let primary: Vec<Value> = redis::from_redis_value_ref(range.get(2)?).ok()?;
            let host: String = redis::from_redis_value_ref(primary.first()?).ok()?;
            let port: u16 = redis::from_redis_value_ref(primary.get(1)?).ok()?;
            Some((first, last, host, port))
        })();
        out.push(parsed.ok_or_else(|| fail("CLUSTER SLOTS answered in an unknown form".into()))?);
    }
    Ok(out)
}
