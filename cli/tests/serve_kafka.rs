//! `featc serve --kafka` against a real broker (tansu on 127.0.0.1, started here):
//! a public case's events are produced to one topic per source (three partitions,
//! out of order within a partition), with records that do not decode among them;
//! the server is killed with SIGKILL while it consumes and restarted on the same
//! state; at the end every event was counted exactly once, the bad records were
//! dead-lettered and counted, and every spine row read over HTTP at its time equals
//! `featc training-set`, bit for bit.

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
    let work = std::env::temp_dir().join(format!("featc-kafka-{case}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work");
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
    // Records that must be dead-lettered: not JSON, not an object, a wrong type.
    let first = &events.sources[0];
    let topic = format!("{case}.{}", first.name);
    let bad = vec![
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
    produce(&producer, &bad);

    let state = work.join("state");
    let kafka = broker.address();
    let args = [
        dir.to_str().expect("path"),
        "--kafka",
        &kafka,
        "--state",
        state.to_str().expect("path"),
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
    wait_until("every record consumed", || {
        metric(&served.addr, "featc_kafka_records_total") as usize == total
            && metric(&served.addr, "featc_kafka_dead_lettered_total") as usize == bad.len()
    });
    assert_eq!(metric(&served.addr, "featc_events_total") as usize, total);
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
    assert_eq!(listed.len(), 3, "{dead}");
    assert!(listed[0].1.starts_with("not JSON"), "{listed:?}");
    assert!(listed[1].1.contains("expected a JSON object"), "{listed:?}");
    assert!(
        listed[2].1.contains("yesterday") || listed[2].1.contains("column"),
        "{listed:?}"
    );
    assert_eq!(metric(&served.addr, "featc_late_events_total"), 0.0);

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
