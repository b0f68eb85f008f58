//! `featc serve --kafka-group --state-store`: instances sharing the work through a real
//! broker's consumer group (tansu on 127.0.0.1). A public case whose `orders` feed a
//! buyer view and two seller views (so every order is forwarded to two entities'
//! internal topics) is produced to three-partition topics, out of order; three
//! instances start, one is killed with SIGKILL while records flow, a new one joins,
//! and a partition is added to a source topic and fed. At the end every record was
//! applied exactly once per entity (the partitions' counters summed over the
//! instances), every spine row read through each instance at its time equals
//! `featc training-set`, bit for bit, and the hashes the partitions' sinks keep in a
//! three-node Redis Cluster equal it too.

use crate::serve_common;
use crate::serve_redis::Expected;
use crate::serve_redis_cluster::ClusterReader;
use crate::services;

use serve_common::*;
use services::{produce, Broker};

/// Microseconds since the epoch, now.
fn now_us() -> i64 {
    featc_server::wire::time::now_us()
}

/// The sum of every line of metric `name` (any labels) whose labels contain `with`.
fn metric_sum(addr: &str, name: &str, with: &str) -> f64 {
    let (status, body) = request(addr, "GET", "/metrics", &[], b"").unwrap_or_default();
    assert_eq!(status, 200);
    String::from_utf8_lossy(&body)
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(with))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Adds partitions to `topic` so that it has `total`; `false` when the broker does
/// not support adding partitions (tansu 0.6.0 answers CreatePartitions with
/// UNSUPPORTED_FEATURE: docs/scale-out.md).
fn add_partitions(broker: &Broker, topic: &str, total: usize) -> bool {
    use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions};
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", broker.address())
        .create()
        .expect("admin client");
    let results = futures::executor::block_on(
        admin.create_partitions(&[NewPartitions::new(topic, total)], &AdminOptions::new()),
    );
    match results {
        Err(rdkafka::error::KafkaError::AdminOp(
            rdkafka::types::RDKafkaErrorCode::UnsupportedFeature,
        )) => {
            eprintln!("the broker cannot add partitions (UnsupportedFeature): step skipped");
            false
        }
        other => {
            for r in other.expect("create partitions") {
                r.expect("partitions added");
            }
            true
        }
    }
}

/// A work folder, the case with topics (three partitions each, created on a new
/// broker), its project, graph and events, and every event as a record spread over
/// the partitions, out of order within an hour (`seed`).
struct Setup {
    work: std::path::PathBuf,
    dir: std::path::PathBuf,
    project: featc::ir::Project,
    graph: featc_runtime::stream::StreamGraph,
    events: Events,
    broker: Broker,
    records: Vec<(String, i32, Vec<u8>)>,
}

fn setup(case: &str, name: &str, seed: u64) -> Setup {
    let work = crate::cli_common::scratch(&format!("serve_group/{name}"));
    let dir = case_with_topics(case, &work);
    let (project, graph) = compile(&dir);
    let events = events(&project, &graph);
    let broker = Broker::start(&work.join("broker.txt"));
    for s in &events.sources {
        broker.create_topic(&format!("{case}.{}", s.name), 3);
    }
    let mut records: Vec<(String, i32, Vec<u8>)> = Vec::new();
    for (s, r, _) in arrival(&events, 3_600_000_000, seed) {
        let source = &events.sources[s];
        let topic = format!("{case}.{}", source.name);
        records.push((topic, (mix(r as u64) % 3) as i32, record_json(source, r)));
    }
    Setup {
        work,
        dir,
        project,
        graph,
        events,
        broker,
        records,
    }
}

/// Waits until the members' partitions have applied every record of the marketplace
/// case (orders reach the buyer's partitions; orders and reviews the seller's) and
/// every partition's lag is 0, then checks the counts are exactly that: once each.
fn settle(servers: &[&Served], events: &Events) {
    let count = |name: &str| {
        events
            .sources
            .iter()
            .find(|s| s.name == name)
            .map_or(0, |s| s.rows.len())
    };
    let want = [
        ("buyer", count("orders")),
        ("seller", count("orders") + count("reviews")),
    ];
    let applied = |entity: &str| -> usize {
        servers
            .iter()
            .map(|s| {
                metric_sum(
                    &s.addr,
                    "featc_group_partition_records_total",
                    &format!("entity=\"{entity}\""),
                )
            })
            .sum::<f64>() as usize
    };
    let started = std::time::Instant::now();
    while want.iter().any(|(e, n)| applied(e) < *n) {
        assert!(
            // A bound on waiting, not on speed: under the whole suite's load on 2
            // cores a rebalance after the kill once needed more than 180 s.
            started.elapsed() < std::time::Duration::from_secs(300),
            "not every record applied: {:?} of {want:?}\n{}",
            want.map(|(e, _)| applied(e)),
            servers
                .iter()
                .map(|s| format!("{}{}", s.stderr_text(), partition_lines(&s.addr)))
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    wait_until("every partition's lag is 0", || {
        servers.iter().all(|s| {
            let (_, body) = request(&s.addr, "GET", "/metrics", &[], b"").unwrap_or_default();
            String::from_utf8_lossy(&body).contains("featc_group_partition_lag{")
                && metric_sum(&s.addr, "featc_group_partition_lag", "entity=") == 0.0
        })
    });
    // Exactly once: not one more either, once the group has settled.
    std::thread::sleep(std::time::Duration::from_secs(2));
    for (entity, n) in want {
        assert_eq!(applied(entity), n, "{entity}");
    }
    // Holes the broker served (tansu does: docs/scale-out.md) were read again; none
    // was taken for a real gap, which would have lost records.
    let holes = |name: &str| -> f64 {
        servers
            .iter()
            .map(|s| metric_sum(&s.addr, name, "entity="))
            .sum()
    };
    eprintln!(
        "holes read again: {}",
        holes("featc_group_partition_holes_total")
    );
    assert_eq!(holes("featc_group_partition_holes_skipped_total"), 0.0);
}

/// The per-partition lines of a member's `/metrics`, for a failure's message.
fn partition_lines(addr: &str) -> String {
    let (_, body) = request(addr, "GET", "/metrics", &[], b"").unwrap_or_default();
    String::from_utf8_lossy(&body)
        .lines()
        .filter(|l| l.starts_with("featc_group_partition_"))
        .map(|l| format!("\n{l}"))
        .collect()
}

/// Reads every spine row at its time, each through one of `members` in turn (so
/// that every member answers rows whose keys others own, and routes them): each
/// equals the training set. (Every row through every member took two thirds of the
/// test's time and checked nothing more: a member answers a routed read with the
/// owner's own answer.)
fn check_spine(members: &[&Served], check: &SpineCheck, case: &str) {
    for row in 0..check.spine.num_rows() {
        let served = members[row % members.len()];
        let (status, answer) = post(&served.addr, "/get-online-features", &check.read_body(row));
        assert_eq!(
            status, 200,
            "read of spine row {row} through {}: {answer}",
            served.addr
        );
        check.check_answer(case, row, &answer);
    }
}

#[test]
fn three_instances_share_the_work_across_a_kill_a_join_and_a_new_partition() {
    let case = "marketplace";
    let Setup {
        work,
        dir,
        project,
        graph,
        events,
        broker,
        records,
    } = setup(case, "group", 5);
    let cluster = services::RedisCluster::start(&work.join("cluster"));
    let sink = cluster.url();
    let producer = broker.producer();
    let third = records.len() / 3;
    produce(&producer, &records[..third]);

    let store = work.join("store");
    let kafka = broker.address();
    let start = |name: &str| {
        let state = work.join(format!("local-{name}"));
        Served::start(
            &[
                dir.to_str().expect("path"),
                "--kafka",
                &kafka,
                "--kafka-group",
                "g1",
                "--state-store",
                store.to_str().expect("path"),
                "--kafka-partitions",
                "6",
                "--state",
                state.to_str().expect("path"),
                "--min-lateness",
                "36500d",
                "--checkpoint-events",
                "200",
                "--checkpoint-interval",
                "1s",
                "--sink",
                &sink,
            ],
            &work.join(format!("serve-{name}.txt")),
        )
    };
    let a = start("a");
    let b = start("b");
    let c = start("c");
    for s in [&a, &b, &c] {
        s.wait_ready();
    }
    // Killed once it holds partitions and has checkpointed some of them.
    wait_until(
        "instance b owns partitions and uploaded a checkpoint",
        || {
            metric(&b.addr, "featc_group_partitions_owned") > 0.0
                && metric(&b.addr, "featc_group_uploads_total") > 0.0
        },
    );
    produce(&producer, &records[third..2 * third]);
    b.kill();
    let d = start("d");
    d.wait_ready();
    // A partition added to a source topic is picked up without a restart.
    let orders = format!("{case}.orders");
    let added = add_partitions(&broker, &orders, 4);
    let mut rest: Vec<(String, i32, Vec<u8>)> = records[2 * third..].to_vec();
    for (k, r) in rest.iter_mut().enumerate() {
        if added && r.0 == orders && k % 4 == 0 {
            r.1 = 3;
        }
    }
    produce(&producer, &rest);
    let servers = [&a, &c, &d];
    settle(&servers, &events);
    let owned: f64 = servers
        .iter()
        .map(|s| metric(&s.addr, "featc_group_partitions_owned"))
        .sum();
    assert_eq!(owned, 12.0, "two entities of six partitions each");
    // Every member holds a share of the state, the one that joined last included
    // (the tasks are balanced apart from the forwarding: docs/scale-out.md).
    for s in servers {
        let mine = metric(&s.addr, "featc_group_partitions_owned");
        assert!(mine >= 2.0, "{} owns {mine} of the 12 partitions", s.addr);
    }
    check_spine(&servers, &SpineCheck::new(&dir, &project, &work), case);
    for served in servers {
        assert!(metric(&served.addr, "featc_group_routed_reads_total") > 0.0);
    }
    // The wall clock is every partition's clock: the hashes are as of now, and the
    // events are years old (only lifetime features still have values).
    let mut expected = Expected::compute(&dir, &graph, &events, now_us(), &work);
    expected.exact_as_of = false;
    expected.wait_for(&mut ClusterReader(&cluster), "the partitions' sinks");
    a.stop_gracefully();
    c.stop_gracefully();
    d.stop_gracefully();
    let _ = std::fs::remove_dir_all(&work);
}

/// The state store on S3 (SeaweedFS on loopback, credentials from the environment as
/// a deployment gives them): a second instance joins (the partitions it takes are
/// closed, copied and opened through the bucket), then the first is killed with
/// SIGKILL (the second opens the rest from their last copies and reads on from their
/// positions). Every record counts once, and every spine row reads as training-set.
#[test]
fn partitions_move_through_an_s3_state_store() {
    let case = "marketplace";
    let Setup {
        work,
        dir,
        project,
        events,
        broker,
        records,
        ..
    } = setup(case, "group-s3", 7);
    let s3 = services::S3Server::start(&work.join("s3"));
    s3.create_bucket("featc-state");
    let producer = broker.producer();
    let half = records.len() / 2;
    produce(&producer, &records[..half]);
    let kafka = broker.address();
    let endpoint = s3.endpoint();
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", s3.access_key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", s3.secret_key.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ALLOW_HTTP", "true"),
    ];
    let start = |name: &str| {
        let state = work.join(format!("local-{name}"));
        Served::start_with_env(
            &[
                dir.to_str().expect("path"),
                "--kafka",
                &kafka,
                "--kafka-group",
                "s3group",
                "--state-store",
                "s3://featc-state/groups/s3group",
                "--kafka-partitions",
                "4",
                "--state",
                state.to_str().expect("path"),
                "--min-lateness",
                "36500d",
                "--checkpoint-events",
                "300",
                "--checkpoint-interval",
                "1s",
            ],
            &env,
            &work.join(format!("serve-{name}.txt")),
        )
    };
    let a = start("a");
    a.wait_ready();
    wait_until("instance a copied checkpoints to the bucket", || {
        metric(&a.addr, "featc_group_uploads_total") >= 4.0
    });
    let b = start("b");
    b.wait_ready();
    wait_until("the joining instance opened partitions a closed", || {
        metric(&b.addr, "featc_group_tasks_opened_total") > 0.0
            && metric(&a.addr, "featc_group_tasks_closed_total") > 0.0
    });
    produce(&producer, &records[half..]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    a.kill();
    settle(&[&b], &events);
    assert_eq!(metric(&b.addr, "featc_group_partitions_owned"), 8.0);
    let (status, health) = get(&b.addr, "/health");
    assert_eq!(status, 200, "{health}");
    let health: serde_json::Value = serde_json::from_str(&health).expect("json");
    assert_eq!(
        health["group"]["owned"].as_array().map(Vec::len),
        Some(8),
        "{health}"
    );
    assert_eq!(health["group"]["partitions"], 4, "{health}");
    check_spine(&[&b], &SpineCheck::new(&dir, &project, &work), case);
    b.stop_gracefully();
    let _ = std::fs::remove_dir_all(&work);
}

/// The repartition topic across a crash: a member killed with SIGKILL as soon as it
/// has forwarded records, before its partitions checkpointed anything (no copy in
/// the store), so the next member forwards again from the last committed offsets
/// (copies reach the internal topics beside the originals) and rebuilds every
/// partition from the internal topics alone. Nothing is lost or counted twice.
#[test]
fn a_crash_between_forwarding_and_applying_loses_and_duplicates_nothing() {
    let case = "marketplace";
    let Setup {
        work,
        dir,
        project,
        events,
        broker,
        records,
        ..
    } = setup(case, "group-crash", 11);
    produce(&broker.producer(), &records);
    let kafka = broker.address();
    let store = work.join("store");
    let start = |name: &str| {
        let state = work.join(format!("local-{name}"));
        Served::start(
            &[
                dir.to_str().expect("path"),
                "--kafka",
                &kafka,
                "--kafka-group",
                "crash",
                "--state-store",
                store.to_str().expect("path"),
                "--kafka-partitions",
                "3",
                "--state",
                state.to_str().expect("path"),
                "--min-lateness",
                "36500d",
                // No checkpoint before the kill: the store holds nothing of it.
                "--checkpoint-events",
                "100000000",
                "--checkpoint-interval",
                "1h",
            ],
            &work.join(format!("serve-{name}.txt")),
        )
    };
    let a = start("a");
    a.wait_ready();
    wait_until("instance a forwarded records", || {
        metric(&a.addr, "featc_group_forwarded_total") > 0.0
    });
    let forwarded = metric(&a.addr, "featc_group_forwarded_total");
    a.kill();
    assert!(
        forwarded < records.len() as f64,
        "killed before forwarding everything"
    );
    let b = start("b");
    b.wait_ready();
    settle(&[&b], &events);
    check_spine(&[&b], &SpineCheck::new(&dir, &project, &work), case);
    b.stop_gracefully();
    let _ = std::fs::remove_dir_all(&work);
}
