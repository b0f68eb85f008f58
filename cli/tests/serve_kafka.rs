//! `featc serve --kafka` against a real broker (tansu on 127.0.0.1, started here):
//! a public case's events are produced to one topic per source (three partitions,
//! out of order within a partition), with records that do not decode among them;
//! the server is killed with SIGKILL while it consumes and restarted on the same
//! state; at the end every event was counted exactly once, the bad records were
//! dead-lettered and counted, and every spine row read over HTTP at its time equals
//! `featc training-set`, bit for bit. And the hard case: Kafka records and HTTP
//! pushes feeding one source with real lateness under `--late dead-letter`, several
//! kills at different points, ending exactly as an uninterrupted run. Both keep
//! their entity states on disk behind a 64 KiB cache, so most entities are on disk.

use crate::serve_common;
use crate::services;

use serve_common::*;
use services::{produce, Broker};

/// A work folder, the case with topics, its project and events, and a broker with no
/// topics yet.
fn setup(
    case: &str,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    featc::ir::Project,
    Events,
    Broker,
) {
    let work = crate::cli_common::scratch(&format!("serve_kafka/{case}"));
    let dir = case_with_topics(case, &work);
    let (project, graph) = compile(&dir);
    let events = events(&project, &graph);
    let broker = Broker::start(&work.join("broker.txt"));
    (work, dir, project, events, broker)
}

#[test]
fn kafka_events_count_once_across_a_sigkill_and_equal_the_training_set() {
    let case = "marketplace";
    let (work, dir, project, events, broker) = setup(case);
    for s in &events.sources {
        broker.create_topic(&format!("{case}.{}", s.name), 3);
    }
    // Every event as a JSON object, spread over three partitions, each partition out of
    // order (arrival jitter of up to an hour: the server runs with a larger lateness).
    let mut records: Vec<(String, i32, Vec<u8>)> = Vec::new();
    for (s, r, _) in arrival(&events, 3_600_000_000, 5) {
        let source = &events.sources[s];
        let topic = format!("{case}.{}", source.name);
        let partition = (mix(r as u64) % 3) as i32;
        records.push((topic, partition, record_json(source, r)));
    }
    let total = records.len();
    // Records that must be dead-lettered: not JSON, not an object, a wrong type, and
    // a valid event at the end of time (past `--max-future`, whose default is an
    // hour): taken, it would move the watermark there and every read at a real time
    // would be refused (the spine reads below).
    let first = &events.sources[0];
    let topic = format!("{case}.{}", first.name);
    let mut far: serde_json::Value =
        serde_json::from_slice(&record_json(first, 0)).expect("a record");
    far[first.time_column.as_str()] = serde_json::json!("9999-12-31T23:59:59Z");
    let bad = [
        (topic.clone(), 0, far.to_string().into_bytes()),
        (topic.clone(), 0, b"{not json".to_vec()),
        (topic.clone(), 1, b"[1, 2, 3]".to_vec()),
        (
            topic.clone(),
            2,
            format!("{{\"{}\": \"yesterday\"}}", first.time_column).into_bytes(),
        ),
    ];
    let producer = broker.producer();
    let half = total / 2;
    produce(&producer, &records[..half]);
    // The far record after the restart: the future counter is the process's.
    produce(&producer, &bad[1..]);

    let state = work.join("state");
    let kafka = broker.address();
    let args = [
        dir.to_str().expect("path"),
        "--kafka",
        &kafka,
        "--state",
        state.to_str().expect("path"),
        // A cache far smaller than the state: most entities are on disk.
        "--memory-limit",
        "64KiB",
        "--clock",
        "events",
        // Nothing is late and no state is dropped, so every spine row can be read
        // at its time once everything is consumed.
        "--min-lateness",
        "36500d",
        "--checkpoint-events",
        "2000",
    ];
    let log = work.join("serve.txt");
    let served = Served::start(&args, &log);
    served.wait_ready();
    // Kill it while it consumes, once a checkpoint recorded positions: the restart
    // must seek there and read the rest again without counting anything twice.
    wait_until("a checkpoint", || {
        metric(&served.addr, "featc_checkpoints_total") >= 1.0
    });
    served.kill();
    let served = Served::start(&args, &log);
    served.wait_ready();
    let stderr = served.stderr_text();
    assert!(stderr.contains("loaded checkpoint of record"), "{stderr}");
    produce(&producer, &records[half..]);
    produce(&producer, &bad[..1]);
    wait_until("every record consumed", || {
        metric(&served.addr, "featc_kafka_records_total") as usize == total
            && metric(&served.addr, "featc_kafka_dead_lettered_total") as usize == bad.len()
    });
    assert_eq!(metric(&served.addr, "featc_events_total") as usize, total);
    assert!(
        metric(&served.addr, "featc_state_evictions_total") > 0.0
            && metric(&served.addr, "featc_state_loads_total") > 0.0,
        "the cache must be too small for the state"
    );
    // Each bad record is listed with where it was read and why it was refused (the
    // restart re-read none of them twice: the count is the checkpoint's plus the rest).
    let (status, text) = get(&served.addr, "/kafka/dead-letters");
    assert_eq!(status, 200, "{text}");
    let dead: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(dead["total"], bad.len(), "{dead}");
    let mut listed: Vec<(i64, String)> = dead["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            assert_eq!(r["at"]["topic"], topic.as_str(), "{r}");
            assert!(r["at"]["offset"].is_i64(), "{r}");
            (
                r["at"]["partition"].as_i64().expect("partition"),
                r["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(listed.len(), 4, "{dead}");
    // Partition 0 holds two: "event time ..." sorts before "not JSON".
    assert_eq!(
        listed[0].1,
        "event time 9999-12-31T23:59:59Z is more than 1h ahead of the wall clock (--max-future)",
        "{listed:?}"
    );
    assert!(listed[1].1.starts_with("not JSON"), "{listed:?}");
    assert!(listed[2].1.contains("expected a JSON object"), "{listed:?}");
    assert!(
        listed[3].1.contains("yesterday") || listed[3].1.contains("column"),
        "{listed:?}"
    );
    // The same records in the dead-letter store, counted by reason.
    let by_reason = |reason: &str| {
        let (status, text) = get(
            &served.addr,
            &format!("/dead-letters?origin=kafka&reason={reason}"),
        );
        assert_eq!(status, 200, "{text}");
        let listing: serde_json::Value = serde_json::from_str(&text).expect("json");
        listing["letters"].as_array().expect("letters").len()
    };
    assert_eq!((by_reason("future"), by_reason("invalid")), (1, 3));
    let future = format!(
        "featc_dead_letters_total{{source=\"{}\",reason=\"future\"}}",
        first.name
    );
    assert_eq!(metric(&served.addr, &future), 1.0);
    assert_eq!(metric(&served.addr, "featc_late_events_total"), 0.0);
    let future = format!("featc_future_events_total{{source=\"{}\"}}", first.name);
    assert_eq!(metric(&served.addr, &future), 1.0);

    let check = SpineCheck::new(&dir, &project, &work);
    for row in 0..check.spine.num_rows() {
        let (status, answer) = post(&served.addr, "/get-online-features", &check.read_body(row));
        assert_eq!(status, 200, "read of spine row {row}: {answer}");
        check.check_answer(case, row, &answer);
    }
    served.stop_gracefully();
    let _ = std::fs::remove_dir_all(&work);
}

/// Each partition in time order, but the partitions far apart (all of partition 0's
/// records are produced before partition 1's): with the watermark following the
/// slowest partition, no record is late even with no lateness at all.
#[test]
fn a_partition_behind_the_others_is_not_late() {
    let case = "synthetic";
    let (work, dir, _, events, broker) = setup(case);
    let source = &events.sources[0];
    let topic = format!("{case}.{}", source.name);
    broker.create_topic(&topic, 3);
    let mut order: Vec<usize> = (0..source.rows.len()).collect();
    order.sort_by_key(|&r| (source.rows[r].0, r));
    let mut records: Vec<(String, i32, Vec<u8>)> = Vec::new();
    for partition in 0..3 {
        for &r in order
            .iter()
            .filter(|&&r| (mix(r as u64) % 3) as i32 == partition)
        {
            records.push((topic.clone(), partition, record_json(source, r)));
        }
    }
    produce(&broker.producer(), &records);
    let kafka = broker.address();
    let served = Served::start(
        &[dir.to_str().expect("path"), "--kafka", &kafka],
        &work.join("serve.txt"),
    );
    served.wait_ready();
    wait_until("every record consumed", || {
        metric(&served.addr, "featc_kafka_records_total") as usize == records.len()
    });
    assert_eq!(metric(&served.addr, "featc_late_events_total"), 0.0);
    served.stop_gracefully();
    let _ = std::fs::remove_dir_all(&work);
}

/// The committed offset of `group` on partition 0 of `topic` (the server commits
/// after each round it applied, for monitoring): `None` when nothing is committed.
fn committed(broker: &Broker, group: &str, topic: &str) -> Option<i64> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", broker.address())
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut list = rdkafka::TopicPartitionList::new();
    list.add_partition(topic, 0);
    let offsets = consumer
        .committed_offsets(list, std::time::Duration::from_secs(10))
        .expect("committed offsets");
    match offsets.find_partition(topic, 0).map(|p| p.offset()) {
        Some(rdkafka::Offset::Offset(o)) => Some(o),
        _ => None,
    }
}

/// Where to kill the server in `mixed_run`.
#[derive(Clone, Copy, PartialEq)]
enum Kill {
    /// Just after a phase's records are produced, while the server reads them.
    WhileConsuming,
    /// Just after a phase's first push was acknowledged.
    AfterPush,
}

/// What a run ends with: (events, late, dead-lettered, Kafka records), the read of
/// every user at the end, and the dead letters listed (reason, how the event came,
/// the event), in the store's order.
type Ending = ([u64; 4], serde_json::Value, Vec<(String, String, String)>);

/// Every letter of `GET /dead-letters`, page by page: (reason, the origin's kind,
/// the event as JSON text).
fn all_dead_letters(addr: &str) -> Vec<(String, String, String)> {
    let mut letters = Vec::new();
    let mut after = String::new();
    loop {
        let (status, text) = get(addr, &format!("/dead-letters?limit=1000{after}"));
        assert_eq!(status, 200, "{text}");
        let page: serde_json::Value = serde_json::from_str(&text).expect("json");
        for l in page["letters"].as_array().expect("letters") {
            let origin = l["origin"].as_object().expect("origin");
            let kind = origin.keys().next().cloned().unwrap_or_default();
            letters.push((
                l["reason"].as_str().expect("reason").to_string(),
                kind,
                l["event"].to_string(),
            ));
        }
        match page["next"].as_u64() {
            Some(next) => after = format!("&after={next}"),
            None => return letters,
        }
    }
}

/// One run of the mixed scenario on a fresh broker and state: the synthetic case's
/// events in arrival order (up to 2 h out of order, with a lateness of 30 min under
/// `--late dead-letter`, so many are late), in phases; each phase's first part
/// produced to one Kafka partition and waited for, the rest pushed over HTTP to the
/// same source (each push with an idempotency key). `kills`
/// names the phases to kill the server in, and where. Returns the ending, and
/// per kill made while consuming whether the broker had records the killed server
/// had not read (its committed offset behind what was produced), read by the next.
fn mixed_run(label: &str, kills: &[(usize, Kill)]) -> (Ending, Vec<bool>) {
    let case = "synthetic";
    let work = crate::cli_common::scratch(&format!("serve_kafka/mixed-{label}"));
    let dir = case_with_topics(case, &work);
    let (project, graph) = compile(&dir);
    let events = events(&project, &graph);
    let broker = Broker::start(&work.join("broker.txt"));
    let source = &events.sources[0];
    let topic = format!("{case}.{}", source.name);
    broker.create_topic(&topic, 1);
    let order: Vec<usize> = arrival(&events, 2 * 3_600_000_000, 11)
        .into_iter()
        .map(|(_, r, _)| r)
        .collect();
    let phases = 8;
    let per_phase = order.len().div_ceil(phases);
    let state = work.join("state");
    let served_log = work.join("served");
    let kafka = broker.address();
    let args = [
        dir.to_str().expect("path"),
        "--kafka",
        &kafka,
        "--state",
        state.to_str().expect("path"),
        "--memory-limit",
        "64KiB",
        "--clock",
        "events",
        "--min-lateness",
        "30m",
        "--late",
        "dead-letter",
        // One partition that never goes idle: the order the server sees is the
        // order of the phases, whatever the timing.
        "--kafka-idle",
        "1d",
        "--checkpoint-events",
        "700",
        "--log-served",
        served_log.to_str().expect("path"),
    ];
    let log = work.join("serve.txt");
    let start = || {
        let served = Served::start(&args, &log);
        served.wait_ready();
        served
    };
    let mut served = start();
    let producer = broker.producer();
    let mut produced = 0;
    let mut reread = Vec::new();
    for (phase, rows) in order.chunks(per_phase).enumerate() {
        let (to_kafka, to_push) = rows.split_at(rows.len() * 3 / 5);
        let records: Vec<(String, i32, Vec<u8>)> = to_kafka
            .iter()
            .map(|&r| (topic.clone(), 0, record_json(source, r)))
            .collect();
        produce(&producer, &records);
        produced += records.len();
        if kills.contains(&(phase, Kill::WhileConsuming)) {
            served.kill();
            let behind = committed(&broker, "featc-serve", &topic).unwrap_or(0);
            reread.push(behind < produced as i64);
            served = start();
        }
        wait_until("the phase's records consumed", || {
            metric(&served.addr, "featc_kafka_records_total") as usize == produced
        });
        for (i, push) in to_push.chunks(to_push.len().div_ceil(2).max(1)).enumerate() {
            let key = format!("{label}-{phase}-{i}");
            let answer = try_post_with(
                &served.addr,
                "/push",
                &[("Idempotency-Key", &key)],
                &push_body(source, push),
            );
            match answer {
                Ok((200, a)) => assert_eq!(a["accepted"], push.len(), "{a}"),
                Ok((status, a)) => panic!("push {key}: {status} {a}"),
                Err(no_answer) => panic!("push {key}: {no_answer:?} from a running server"),
            }
            if i == 0 && kills.contains(&(phase, Kill::AfterPush)) {
                served.kill();
                served = start();
            }
        }
    }
    // Everything the broker had is consumed: the committed offset is its end.
    wait_until("the offsets committed", || {
        committed(&broker, "featc-serve", &topic) == Some(produced as i64)
    });
    let counts = [
        "featc_events_total",
        "featc_late_events_total",
        "featc_dead_lettered_total",
        "featc_kafka_records_total",
    ]
    .map(|m| metric(&served.addr, m) as u64);
    let end = source.rows.iter().map(|r| r.0).max().expect("events") + 1;
    let users = source.distinct_ints("user_id");
    let features: Vec<String> = project
        .all_features()
        .into_iter()
        .map(|f| project.feature(f).name.clone())
        .collect();
    let body = serde_json::json!({"features": features, "entities": {"user_id": users}, "at": end});
    let (status, read) = post(&served.addr, "/get-online-features", &body);
    assert_eq!(status, 200, "{read}");
    let letters = all_dead_letters(&served.addr);
    served.stop_gracefully();
    drop(broker);
    audit_with_dead_letters(&dir, &served_log, &state, !letters.is_empty());
    let _ = std::fs::remove_dir_all(&work);
    ((counts, read, letters), reread)
}

/// `featc audit` of the final read's log, from the case's events (the dead-lettered
/// ones among them): with the server's state every cell is equal or explained by
/// its dead letters; without it, the cells they change are unexplained.
fn audit_with_dead_letters(
    dir: &std::path::Path,
    log: &std::path::Path,
    state: &std::path::Path,
    letters: bool,
) {
    let audit = |more: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
            .arg("audit")
            .arg(dir)
            .args(["--format", "json", "-q", "--served"])
            .arg(log)
            .args(more)
            .current_dir(repo())
            .output()
            .expect("featc audit");
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (
            out.status.code(),
            report,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, report, stderr) = audit(&["--state".as_ref(), state.as_os_str()]);
    assert_eq!(code, Some(0), "{stderr}{report}");
    assert_eq!(report["cells"]["unexplained"], 0, "{report}");
    if letters {
        let explained = report["cells"]["explained"]["dead_lettered"].as_u64();
        assert!(explained.is_some_and(|n| n > 0), "{report}");
        let (code, blind, _) = audit(&[]);
        assert_eq!(
            code,
            Some(1),
            "without the state the dead letters are unknown: {blind}"
        );
        assert_eq!(
            blind["cells"]["unexplained"].as_u64(),
            explained,
            "the same cells, unexplained: {blind}"
        );
    }
}

/// Kafka records and HTTP pushes on one source, with real lateness under `--late
/// dead-letter`, and the server killed with SIGKILL four times at different points
/// (while it reads records, after a push was acknowledged, twice each):
/// every event counted once, the late ones judged and dead-lettered exactly as in an
/// uninterrupted run (the restart re-applies logged rounds and pushes in their
/// original order), every value equal, and the records the killed server had not
/// read were read by the next one.
#[test]
fn kafka_and_pushes_on_one_source_end_as_an_uninterrupted_run_across_kills() {
    let (calm, none) = mixed_run("calm", &[]);
    assert!(none.is_empty());
    let kills = [
        (1, Kill::WhileConsuming),
        (3, Kill::AfterPush),
        (5, Kill::WhileConsuming),
        (6, Kill::AfterPush),
    ];
    let (killed, reread) = mixed_run("killed", &kills);
    let [events, late, dead, records] = calm.0;
    assert!(
        late > 0 && dead == late,
        "real lateness: {late} late, {dead} dead-lettered"
    );
    assert!(
        records > 0 && records < events,
        "both paths feed the source"
    );
    assert_eq!(killed.0, calm.0, "(events, late, dead-lettered, records)");
    assert_eq!(killed.1, calm.1, "every user's values at the end");
    // Every late event is listed, the same ones in the same order, from both paths.
    let letters = &calm.2;
    assert_eq!(
        letters.len() as u64,
        dead,
        "one letter per dead-lettered event"
    );
    assert!(
        letters.iter().all(|l| l.0 == "late"),
        "{:?}",
        letters.first()
    );
    for kind in ["kafka", "push"] {
        assert!(
            letters.iter().any(|l| l.1 == kind),
            "no late event came by {kind}"
        );
    }
    assert_eq!(killed.2, calm.2, "the dead letters listed");
    assert!(
        reread.iter().any(|&r| r),
        "no kill left records for the next server to read: {reread:?}"
    );
}
