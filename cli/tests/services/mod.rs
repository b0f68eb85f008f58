//! Real servers for the tests, started and stopped by the test itself on 127.0.0.1:
//! a Kafka-compatible broker (tansu, installed by `scripts/services/install` into
//! `.services/bin`) and Redis (Debian's `redis-server`, installed by the same script). Each instance gets a free port and its own log, and is killed
//! when dropped.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_path_buf()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn wait_for_port(port: u16, child: &mut Child, log: &Path, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} exited ({status}) before listening:\n{text}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what} is not listening on 127.0.0.1:{port} after 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A tansu broker with in-memory storage.
pub struct Broker {
    child: Child,
    pub port: u16,
}

impl Broker {
    pub fn start(log: &Path) -> Broker {
        let tansu = repo().join(".services/bin/tansu");
        assert!(
            tansu.exists(),
            "no Kafka broker at {}: run scripts/services/install (scripts/test does)",
            tansu.display()
        );
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let out = std::fs::File::create(log).expect("broker log");
        let mut child = Command::new(&tansu)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("tansu starts");
        wait_for_port(port, &mut child, log, "tansu");
        Broker { child, port }
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Creates `topic` with `partitions` partitions.
    pub fn create_topic(&self, topic: &str, partitions: i32) {
        use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
        use rdkafka::client::DefaultClientContext;
        use rdkafka::config::ClientConfig;
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", self.address())
            .create()
            .expect("admin client");
        let topics = [NewTopic::new(topic, partitions, TopicReplication::Fixed(1))];
        let results =
            futures::executor::block_on(admin.create_topics(&topics, &AdminOptions::new()))
                .expect("create topics");
        for r in results {
            r.unwrap_or_else(|(t, e)| panic!("topic {t}: {e}"));
        }
    }

    /// A producer that waits for every record's acknowledgement.
    pub fn producer(&self) -> rdkafka::producer::BaseProducer {
        rdkafka::config::ClientConfig::new()
            .set("bootstrap.servers", self.address())
            .set("linger.ms", "5")
            .create()
            .expect("producer")
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `(topic, partition, payload)` records and waits until all are acknowledged.
pub fn produce(producer: &rdkafka::producer::BaseProducer, records: &[(String, i32, Vec<u8>)]) {
    use rdkafka::producer::{BaseRecord, Producer};
    for (topic, partition, payload) in records {
        let mut record: BaseRecord<'_, (), [u8]> = BaseRecord::to(topic)
            .partition(*partition)
            .payload(payload.as_slice());
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((e, back)) => {
                    // The local queue is full: let deliveries drain, then retry.
                    assert!(
                        matches!(
                            e,
                            rdkafka::error::KafkaError::MessageProduction(
                                rdkafka::types::RDKafkaErrorCode::QueueFull
                            )
                        ),
                        "produce: {e}"
                    );
                    producer.poll(Duration::from_millis(10));
                    record = back;
                }
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer
        .flush(Duration::from_secs(60))
        .expect("every record acknowledged");
}

/// A redis-server without persistence.
pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    pub fn start(log: &Path) -> RedisServer {
        RedisServer::start_on(free_port(), log)
    }

    /// A server on `port` (e.g. the port of one that was stopped: a restart).
    pub fn start_on(port: u16, log: &Path) -> RedisServer {
        let out = std::fs::File::create(log).expect("redis log");
        let mut child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (scripts/services/install installs it)");
        wait_for_port(port, &mut child, log, "redis-server");
        RedisServer { child, port }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .expect("redis url")
            .get_connection()
            .expect("a Redis connection")
    }

    /// Stops the server (its data is gone).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Every field of the hash at `key` (empty when there is no such key).
pub fn hgetall(
    connection: &mut redis::Connection,
    key: &str,
) -> std::collections::HashMap<String, String> {
    redis::cmd("HGETALL")
        .arg(key)
        .query(connection)
        .expect("HGETALL")
}

/// Every key matching `pattern`.
pub fn keys(connection: &mut redis::Connection, pattern: &str) -> Vec<String> {
    redis::cmd("KEYS")
        .arg(pattern)
        .query(connection)
        .expect("KEYS")
}

/// A Redis Cluster of three primaries (no replicas) on free loopback ports, created
/// with `redis-cli --cluster create`; every node is killed when dropped.
pub struct RedisCluster {
    nodes: Vec<RedisClusterNode>,
}

struct RedisClusterNode {
    child: Child,
    port: u16,
}

impl Drop for RedisClusterNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RedisCluster {
    pub fn start(dir: &Path) -> RedisCluster {
        let mut nodes = Vec::new();
        for n in 0..3 {
            let port = free_port();
            let data = dir.join(format!("node-{n}"));
            std::fs::create_dir_all(&data).expect("node dir");
            let log = dir.join(format!("node-{n}.txt"));
            let out = std::fs::File::create(&log).expect("redis log");
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes", "--cluster-config-file"])
                .arg(data.join("nodes.conf"))
                .arg("--dir")
                .arg(&data)
                .args(["--save", "", "--appendonly", "no"])
                .stdout(out)
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts (scripts/services/install installs it)");
            wait_for_port(port, &mut child, &log, "redis-server (cluster node)");
            // Pushed at once: a failure below still stops the nodes started.
            nodes.push(RedisClusterNode { child, port });
        }
        let cluster = RedisCluster { nodes };
        let addresses: Vec<String> = cluster
            .ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli --cluster create");
        assert!(
            created.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        let started = Instant::now();
        while !cluster.ports().iter().all(|&p| {
            cluster
                .cli(p, &["CLUSTER", "INFO"])
                .contains("cluster_state:ok")
        }) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the cluster is not ok after 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster
    }

    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// The address of one node (featc finds the others).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.nodes[0].port)
    }

    /// `redis-cli -p PORT ARGS...` (no redirects followed): its output.
    pub fn cli(&self, port: u16, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every key of node `port` matching `pattern`.
    pub fn node_keys(&self, port: u16, pattern: &str) -> Vec<String> {
        self.cli(port, &["KEYS", pattern])
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Empties every node.
    pub fn flush(&self) {
        for p in self.ports() {
            self.cli(p, &["FLUSHALL"]);
        }
    }
}
