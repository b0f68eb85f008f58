//! Real servers for the tests, started and stopped by the test itself on 127.0.0.1:
//! a Kafka-compatible broker (tansu, installed by `scripts/services/install` into
//! `.services/bin`), Redis (Debian's `redis-server`, installed by the same script) and
//! an S3-compatible object store (SeaweedFS's `weed`, in `.services/bin` too). Each
//! instance gets free ports and its own log, and is killed when dropped.

#![allow(dead_code)]

mod cutting_proxy;
pub use cutting_proxy::CuttingProxy;

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

/// `n` different free ports. (Chosen by `bind`, which on Linux prefers odd ports while
/// `connect` takes even ones for its source ports: a server's parts connecting to each
/// other as they start do not take a port another part is about to listen on.)
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("a bound port").port())
        .collect()
}

/// A server's log as text, bytes that are not UTF-8 replaced (weed's log has some),
/// empty when it cannot be read: for the messages of a failed start.
fn log_text(log: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default()).into_owned()
}

fn wait_for_port(port: u16, child: &mut Child, log: &Path, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            let text = log_text(log);
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

/// SeaweedFS (`weed server`: master, volume, filer and S3 gateway in one process) with
/// its data in a folder, every port free and on loopback, and one identity: requests
/// signed with another key or secret are denied.
pub struct S3Server {
    child: Child,
    pub port: u16,
    pub access_key: String,
    pub secret_key: String,
    /// The Unix sockets weed makes in /tmp beside its ports, named by them (it removes
    /// none when killed).
    sockets: Vec<PathBuf>,
}

impl S3Server {
    /// Starts a server keeping its data, configuration and log (`weed.txt`) in `dir`,
    /// and waits until it answers a signed ListBuckets.
    pub fn start(dir: &Path) -> S3Server {
        S3Server::start_with(dir, true)
    }

    /// A server without identities: weed then serves every request unsigned, as a
    /// public bucket does (Google Cloud Storage's XML API is S3's, so `gs://` clients
    /// that skip signing read and write it).
    pub fn start_anonymous(dir: &Path) -> S3Server {
        S3Server::start_with(dir, false)
    }

    fn start_with(dir: &Path, signed: bool) -> S3Server {
        let weed = repo().join(".services/bin/weed");
        assert!(
            weed.exists(),
            "no SeaweedFS at {}: run scripts/services/install (scripts/test does)",
            weed.display()
        );
        let data = dir.join("data");
        std::fs::create_dir_all(&data).expect("SeaweedFS data folder");
        // Eight ports, all held until all are chosen, so that no two are the same.
        let mut ports = free_ports(8).into_iter();
        let port = ports.next().expect("a port");
        let access_key = "featc-test-access".to_string();
        let secret_key = format!("featc-test-secret-{port}");
        let config = dir.join("s3.json");
        let identities = serde_json::json!({"identities": [{
            "name": "featc",
            "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]});
        if signed {
            std::fs::write(&config, identities.to_string()).expect("s3.json");
        }
        let log = dir.join("weed.txt");
        let out = std::fs::File::create(&log).expect("weed log");
        // Every listener's port is given: a gRPC port is otherwise its HTTP port +
        // 10000, which need not be free (nor below 65536). The Iceberg and Lance
        // catalogues are off, and so are the master's anonymous usage reports. As on
        // AWS, a write to a missing bucket is an error (weed would create the bucket).
        // The floor under the disk's free space is an absolute 64 MiB: weed's default,
        // 1 % of the disk, is 2.7 GB on a 270 GB disk, and a test machine whose build
        // leaves less than that free would have every write hang (the volumes turn
        // read-only) while ListBuckets still answers.
        let mut flags = vec![
            format!("-s3.port={port}"),
            "-s3.port.iceberg=0".to_string(),
            "-s3.port.lance=0".to_string(),
            "-s3.autoCreateBucket=false".to_string(),
        ];
        let mut sockets = vec![format!("s3-{port}")];
        for (flag, socket) in [
            ("master.port", None),
            ("master.port.grpc", Some("master-grpc")),
            ("volume.port", None),
            ("volume.port.grpc", Some("volume-grpc")),
            ("filer.port", Some("filer")),
            ("filer.port.grpc", Some("filer-grpc")),
            ("s3.port.grpc", Some("s3-grpc")),
        ] {
            let p = ports.next().expect("a port");
            flags.push(format!("-{flag}={p}"));
            sockets.extend(socket.map(|name| format!("{name}-{p}")));
        }
        let sockets = sockets
            .iter()
            .map(|name| PathBuf::from(format!("/tmp/seaweedfs-{name}.sock")))
            .collect();
        // Its log to stderr only: by default it also keeps log files in /tmp.
        let child = Command::new(&weed)
            .args(["-logtostderr", "server"])
            .arg(format!("-dir={}", data.display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-filer", "-s3"])
            .args(signed.then(|| format!("-s3.config={}", config.display())))
            .args(&flags)
            .args(["-master.telemetry=false", "-master.volumeSizeLimitMB=64"])
            .arg("-volume.minFreeSpace=64MiB")
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("weed starts");
        let mut server = S3Server {
            child,
            port,
            access_key,
            secret_key,
            sockets,
        };
        let started = Instant::now();
        while server.signed("GET", "/") != 200 {
            if let Ok(Some(status)) = server.child.try_wait() {
                let text = log_text(&log);
                panic!("weed exited ({status}) before answering:\n{text}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "SeaweedFS does not answer ListBuckets on {} after 60 s (log: {})",
                server.endpoint(),
                log.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // A disk below the floor would not fail a request, it would hang every write:
        // say so here, where the cause is known, rather than as some test's timeout.
        let text = log_text(&log);
        if let Some(line) = text.lines().find(|l| l.contains("< required")) {
            panic!("SeaweedFS's volumes are read-only, too little disk is free: {line}");
        }
        server
    }

    /// `http://127.0.0.1:PORT`, the S3 gateway.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates bucket `name` (3 to 63 lower-case letters, digits, `-`), and waits
    /// until it lists.
    pub fn create_bucket(&self, name: &str) {
        let status = self.signed("PUT", &format!("/{name}"));
        assert_eq!(status, 200, "creating bucket {name}");
        let started = Instant::now();
        while self.signed("GET", &format!("/{name}?list-type=2")) != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "bucket {name} does not list after 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The HTTP status of a request signed with the server's credentials (curl signs
    /// it: AWS Signature Version 4), 0 when nothing answered.
    fn signed(&self, method: &str, path: &str) -> u32 {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method])
            .args(["--max-time", "10", "--aws-sigv4", "aws:amz:us-east-1:s3"])
            .arg("--user")
            .arg(format!("{}:{}", self.access_key, self.secret_key))
            .arg(format!("{}{path}", self.endpoint()))
            .output()
            .expect("curl (7.75 or later: --aws-sigv4) runs");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        // Whatever weed started first (it starts nothing today), then weed, reaped.
        // (Not a process group of its own: an interrupted test run's Ctrl-C, sent to
        // the terminal's group, must stop weed too.)
        let children = children(self.child.id());
        if !children.is_empty() {
            let _ = Command::new("kill").arg("-KILL").args(&children).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for socket in &self.sockets {
            let _ = std::fs::remove_file(socket);
        }
    }
}

/// The PIDs of `pid`'s child processes (Linux: each thread's `children` file).
fn children(pid: u32) -> Vec<String> {
    let threads = std::fs::read_dir(format!("/proc/{pid}/task")).into_iter();
    threads
        .flatten()
        .flatten()
        .filter_map(|thread| std::fs::read_to_string(thread.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Azurite, Microsoft's Azure Blob Storage emulator (installed by
/// `scripts/services/install` into `.services/bin`), with its well-known development
/// account (`devstoreaccount1`) and its data and log in a folder of its own.
pub struct Azurite {
    child: Child,
    pub port: u16,
}

impl Azurite {
    /// The emulator's published development account key (not a secret: every
    /// Azurite has it; featc must still never print it).
    pub const ACCOUNT_KEY: &'static str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// Starts the blob service on a free port, keeping its data and log
    /// (`azurite.txt`) in `dir`, and waits until it listens.
    pub fn start(dir: &Path) -> Azurite {
        let azurite = repo().join(".services/bin/azurite-blob");
        assert!(
            azurite.exists(),
            "no Azurite at {}: run scripts/services/install (scripts/test does)",
            azurite.display()
        );
        let data = dir.join("azurite");
        std::fs::create_dir_all(&data).expect("Azurite data folder");
        let port = free_port();
        let log = dir.join("azurite.txt");
        let out = std::fs::File::create(&log).expect("azurite log");
        let mut child = Command::new(&azurite)
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .arg("--location")
            .arg(&data)
            .args(["--skipApiVersionCheck", "--silent"])
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("azurite-blob starts");
        wait_for_port(port, &mut child, &log, "azurite-blob");
        Azurite { child, port }
    }

    /// `http://127.0.0.1:PORT`: what object_store's emulator mode reads from
    /// `AZURITE_BLOB_STORAGE_URL`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The connection string of the development account, for Azure's own SDKs.
    pub fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={};BlobEndpoint={}/devstoreaccount1;",
            Azurite::ACCOUNT_KEY,
            self.url()
        )
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
