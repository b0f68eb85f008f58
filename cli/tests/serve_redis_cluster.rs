//! Redis Cluster as an online store, against three real `redis-server
//! --cluster-enabled yes` nodes started here: `featc materialize --to` and `featc serve
//! --sink` given the address of one node leave, for every service and entity, the
//! values `featc training-set` computes (read back with `redis-cli -c`, a client featc
//! did not write, following MOVED), the keys spread over all three nodes; the sink
//! keeps writing across a resharding (its slot map goes stale: MOVED); hashes of a
//! slot in migration go where the cluster asks (ASK).

use crate::serve_common;
use crate::serve_redis::{copy_project, event_times, materialize_to, work_dir, Expected, Store};
use crate::services;

use std::collections::HashMap;
use std::process::Command;

use serde_json::Value as Json;
use serve_common::*;
use services::RedisCluster;

/// The cluster read as a user would: `redis-cli -c` for hashes (redirects followed),
/// every node's `KEYS` for keys.
pub(crate) struct ClusterReader<'a>(pub(crate) &'a RedisCluster);

impl Store for ClusterReader<'_> {
    fn hgetall(&mut self, key: &str) -> HashMap<String, String> {
        let port = self.0.ports()[0].to_string();
        let out = Command::new("redis-cli")
            .args(["-c", "-p", &port, "HGETALL", key])
            .output()
            .expect("redis-cli -c");
        let text = String::from_utf8_lossy(&out.stdout);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        if text.is_empty() {
            return HashMap::new();
        }
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(lines.len().is_multiple_of(2), "HGETALL {key}: {text}");
        lines
            .chunks(2)
            .map(|p| (p[0].to_string(), p[1].to_string()))
            .collect()
    }

    fn keys(&mut self, pattern: &str) -> Vec<String> {
        self.0
            .ports()
            .iter()
            .flat_map(|&p| self.0.node_keys(p, pattern))
            .collect()
    }
}

/// How many keys under `featc:` each node holds.
fn spread(cluster: &RedisCluster) -> Vec<usize> {
    cluster
        .ports()
        .iter()
        .map(|&p| cluster.node_keys(p, "featc:*").len())
        .collect()
}

#[test]
fn materialize_to_a_cluster_equals_the_training_set_on_the_public_cases() {
    let work = work_dir("cluster-cases");
    let cluster = RedisCluster::start(&work);
    for (name, from) in [
        ("marketplace", repo().join("tests/cases/marketplace")),
        ("fraud", repo().join("examples/fraud")),
    ] {
        let dir = copy_project(&from, &work.join(name), &|t| t.to_string());
        let (project, graph) = compile(&dir);
        let events = events(&project, &graph);
        let times = event_times(&events);
        let last = *times.last().expect("events");
        for at in [times[times.len() / 2], last, last + 20 * 86_400_000_000] {
            cluster.flush();
            materialize_to(&dir, &cluster.url(), at);
            let expected = Expected::compute(&dir, &graph, &events, at, &work);
            if let Err(e) = expected.compare(&mut ClusterReader(&cluster)) {
                panic!("{name} at {at}: {e}");
            }
            if at == last {
                let spread = spread(&cluster);
                assert!(
                    spread.iter().all(|&n| n > 0),
                    "{name}: keys per node {spread:?}"
                );
            }
        }
    }
}

#[test]
fn a_list_of_seed_nodes_is_a_cluster_and_a_single_redis_is_not_one() {
    let work = work_dir("cluster-seeds");
    let cluster = RedisCluster::start(&work);
    let dir = repo().join("examples/fraud");
    let ports = cluster.ports();
    // A closed port first: the next seed is tried.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let seeds = format!("redis://127.0.0.1:{closed},127.0.0.1:{}", ports[2]);
    let at = featc_server::wire::time::parse_time_text("2024-03-31T00:00:00Z").expect("time");
    materialize_to(&dir, &seeds, at);
    assert!(spread(&cluster).iter().all(|&n| n > 0));
    let run = |to: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_featc"))
            .args([
                "materialize",
                dir.to_str().expect("path"),
                "--quiet",
                "--to",
                to,
            ])
            .output()
            .expect("featc materialize");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let single = services::RedisServer::start(&work.join("single.txt"));
    let listed = format!("redis://127.0.0.1:{},127.0.0.1:{}", single.port, ports[0]);
    let (code, stderr) = run(&listed);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "127.0.0.1:{} is not a Redis Cluster node",
            single.port
        )),
        "{stderr}"
    );
    let (code, stderr) = run(&format!("{}/3", cluster.url()));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("SELECT is not allowed in cluster mode"),
        "{stderr}"
    );
    let (code, stderr) = run("redis://127.0.0.1:1,,127.0.0.1:2");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("a node of the list is empty"), "{stderr}");
}

/// Pushes rows `rows` of every source (columns as the events hold them).
fn push_rows(addr: &str, events: &Events, upto: i64, from: i64) {
    for source in &events.sources {
        let rows: Vec<usize> = (0..source.rows.len())
            .filter(|&r| source.rows[r].0 > from && source.rows[r].0 <= upto)
            .collect();
        for part in rows.chunks(500) {
            let mut df = serde_json::Map::new();
            let times: Vec<Json> = part
                .iter()
                .map(|&r| featc_test_support::pushes::time_json(source.rows[r].0))
                .collect();
            df.insert(source.time_column.clone(), Json::Array(times));
            for (c, (name, _)) in source.columns.iter().enumerate() {
                let cells: Vec<Json> = part.iter().map(|&r| source.rows[r].1[c].clone()).collect();
                df.insert(name.clone(), Json::Array(cells));
            }
            let body = serde_json::json!({"push_source_name": source.name, "df": df});
            let (status, answer) = post(addr, "/push", &body);
            assert_eq!(status, 200, "{answer}");
        }
    }
}

/// The node id of the node on `port`.
fn node_id(cluster: &RedisCluster, port: u16) -> String {
    cluster.cli(port, &["CLUSTER", "MYID"]).trim().to_string()
}

#[test]
fn the_sink_to_a_cluster_follows_pushes_across_a_resharding() {
    let work = work_dir("cluster-sink");
    let cluster = RedisCluster::start(&work);
    let dir = copy_project(
        &repo().join("tests/cases/marketplace"),
        &work.join("marketplace"),
        &|t| t.to_string(),
    );
    let (project, graph) = compile(&dir);
    let events = events(&project, &graph);
    let times = event_times(&events);
    let half = times[times.len() / 2];
    let last = *times.last().expect("events");
    let sink = cluster.url();
    let args = [
        dir.to_str().expect("path"),
        "--sink",
        &sink,
        "--clock",
        "events",
        "--min-lateness",
        "36500d",
    ];
    let served = Served::start(&args, &work.join("serve.txt"));
    served.wait_ready();
    push_rows(&served.addr, &events, half, i64::MIN);
    let expected = |at| {
        let mut e = Expected::compute(&dir, &graph, &events, at, &work);
        e.exact_as_of = false;
        e
    };
    expected(half).wait_for(&mut ClusterReader(&cluster), "first half");
    let spread_before = spread(&cluster);
    assert!(spread_before.iter().all(|&n| n > 0), "{spread_before:?}");
    // Slots (and their keys) move from the first node to the second: the sink's slot
    // map is stale, its next writes there are answered MOVED.
    let ports = cluster.ports();
    let (from, to) = (node_id(&cluster, ports[0]), node_id(&cluster, ports[1]));
    let resharded = Command::new("redis-cli")
        .args(["--cluster", "reshard", &format!("127.0.0.1:{}", ports[0])])
        .args(["--cluster-from", &from, "--cluster-to", &to])
        .args(["--cluster-slots", "3000", "--cluster-yes"])
        .output()
        .expect("redis-cli --cluster reshard");
    assert!(
        resharded.status.success(),
        "{}",
        String::from_utf8_lossy(&resharded.stdout)
    );
    push_rows(&served.addr, &events, last, half);
    expected(last).wait_for(&mut ClusterReader(&cluster), "after the resharding");
    let spread_after = spread(&cluster);
    assert!(
        spread_after[1] > spread_before[1] && spread_after.iter().all(|&n| n > 0),
        "{spread_before:?} -> {spread_after:?}"
    );
    assert_eq!(metric(&served.addr, "featc_redis_errors_total"), 0.0);
    served.stop_gracefully();
}

/// The "Redis Cluster" examples of docs/online-store.md (blocks `sh cluster`, ports
/// 7000-7002 standing for the cluster's), each with the `text` block after it.
#[test]
fn the_online_store_docs_cluster_examples_run_as_shown() {
    let work = work_dir("cluster-docs");
    let cluster = RedisCluster::start(&work);
    let ports = cluster.ports();
    let docs = std::fs::read_to_string(repo().join("docs/online-store.md")).expect("docs");
    let blocks = crate::serve_redis::fenced_blocks(&docs);
    let mut ran = 0;
    for (i, (info, body)) in blocks.iter().enumerate() {
        if info != "sh cluster" {
            continue;
        }
        let mut script = body.replace("featc ", &format!("{} ", env!("CARGO_BIN_EXE_featc")));
        for (n, port) in ports.iter().enumerate() {
            script = script.replace(&format!("700{n}"), &port.to_string());
        }
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(repo())
            .output()
            .expect("bash");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "block {i} failed:\n{script}\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        if let Some((next, shown)) = blocks.get(i + 1) {
            if next == "text" {
                assert_eq!(stdout.trim_end(), shown.trim_end(), "block {i}");
            }
        }
        ran += 1;
    }
    assert!(ran >= 1, "no `sh cluster` example found");
    assert!(spread(&cluster).iter().all(|&n| n > 0));
}

/// The slot ranges the node on `port` serves (its own line of `CLUSTER NODES`).
fn own_slots(cluster: &RedisCluster, port: u16) -> Vec<u16> {
    let nodes = cluster.cli(port, &["CLUSTER", "NODES"]);
    let mine = nodes
        .lines()
        .find(|l| l.contains("myself"))
        .expect("CLUSTER NODES has the node itself");
    mine.split_whitespace()
        .skip(8)
        .filter(|r| !r.starts_with('['))
        .flat_map(|r| match r.split_once('-') {
            Some((a, b)) => a.parse::<u16>().expect("slot")..=b.parse::<u16>().expect("slot"),
            None => r.parse::<u16>().expect("slot")..=r.parse::<u16>().expect("slot"),
        })
        .collect()
}

/// Sends `commands` (one a line) to the node on `port` through one `redis-cli`.
fn pipe(port: u16, commands: &str) {
    use std::io::Write;
    let mut cli = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-cli");
    cli.stdin
        .take()
        .expect("stdin")
        .write_all(commands.as_bytes())
        .expect("commands");
    assert!(cli.wait().expect("redis-cli").success());
}

/// Every slot of the first node is migrating to the second (as `redis-cli --cluster
/// reshard` leaves them mid-way): a key not on the first node yet is answered `ASK`,
/// and the hash is written where it asks, each after `ASKING`. Read back with
/// `redis-cli -c` (which follows `ASK` too), every value equals the training set, and
/// the first node holds none of them.
#[test]
fn hashes_of_a_migrating_slot_are_written_where_the_cluster_asks() {
    let work = work_dir("cluster-ask");
    let cluster = RedisCluster::start(&work);
    let ports = cluster.ports();
    let (from, to) = (node_id(&cluster, ports[0]), node_id(&cluster, ports[1]));
    let slots = own_slots(&cluster, ports[0]);
    assert!(!slots.is_empty(), "the first node serves no slot");
    let importing: String = slots
        .iter()
        .map(|s| format!("CLUSTER SETSLOT {s} IMPORTING {from}\n"))
        .collect();
    pipe(ports[1], &importing);
    let migrating: String = slots
        .iter()
        .map(|s| format!("CLUSTER SETSLOT {s} MIGRATING {to}\n"))
        .collect();
    pipe(ports[0], &migrating);
    let dir = repo().join("examples/fraud");
    let (project, graph) = compile(&dir);
    let events = events(&project, &graph);
    let at = *event_times(&events).last().expect("events");
    materialize_to(&dir, &cluster.url(), at);
    let expected = Expected::compute(&dir, &graph, &events, at, &work);
    if let Err(e) = expected.compare(&mut ClusterReader(&cluster)) {
        panic!("with the first node's slots migrating: {e}");
    }
    let spread = spread(&cluster);
    assert_eq!(spread[0], 0, "keys per node {spread:?}");
    assert!(spread[1] > 0, "keys per node {spread:?}");
}
