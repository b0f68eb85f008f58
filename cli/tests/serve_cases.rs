//! `featc serve` answers what `featc training-set` computes, bit for bit: the public
//! cases' events are pushed over HTTP in arrival order (shuffled within the allowed
//! lateness, in batches of random size) and every spine row is read over HTTP at its
//! time, as soon as every event at or before it was pushed; `featc audit` of the
//! served log then finds every cell equal.

use crate::serve_common;

use std::collections::BTreeMap;

use serde_json::Value as Json;
use serve_common::*;

const HOUR: i64 = 3_600_000_000;

fn check_case(case: &str, disorder_us: i64, seed: u64) {
    let dir = repo().join("tests/cases").join(case);
    let (project, graph) = compile(&dir);
    let events = events(&project, &graph);
    // One folder per call: a test checks its case twice, with two seeds.
    let work = crate::cli_common::scratch(&format!("serve_cases/{case}-{seed}"));
    let check = SpineCheck::new(&dir, &project, &work);
    let spine_ts = &check.times;
    let mut order: Vec<usize> = (0..check.spine.num_rows()).collect();
    order.sort_by_key(|&i| spine_ts[i]);

    let served_log = work.join("served");
    let served = Served::start(
        &[
            dir.to_str().expect("path"),
            "--min-lateness",
            &format!("{disorder_us}us"),
            "--log-served",
            served_log.to_str().expect("path"),
        ],
        &work.join("stderr.txt"),
    );
    served.wait_ready();
    let arrival = arrival(&events, disorder_us, seed);
    // Suffix minima of event times: a spine row at t can be answered once every
    // remaining event is later than t.
    let mut remaining_min = vec![i64::MAX; arrival.len() + 1];
    for i in (0..arrival.len()).rev() {
        let (s, r, _) = arrival[i];
        remaining_min[i] = remaining_min[i + 1].min(events.sources[s].rows[r].0);
    }
    let mut answers: BTreeMap<usize, Json> = BTreeMap::new();
    let mut next_spine = 0;
    let mut pushed = 0;
    let mut batch_no = 0u64;
    let answer_ready = |pushed: usize,
                        next_spine: &mut usize,
                        answers: &mut BTreeMap<usize, Json>| {
        while *next_spine < order.len() && spine_ts[order[*next_spine]] < remaining_min[pushed] {
            let row = order[*next_spine];
            let body = check.read_body(row);
            let (status, answer) = post(&served.addr, "/get-online-features", &body);
            assert_eq!(status, 200, "read of spine row {row}: {answer}");
            answers.insert(row, answer);
            *next_spine += 1;
        }
    };
    answer_ready(0, &mut next_spine, &mut answers);
    while pushed < arrival.len() {
        // A batch of one source, of random size, that does not move the watermark
        // past the earliest unanswered spine row.
        let size = 1 + (mix(seed ^ batch_no) % 400) as usize;
        batch_no += 1;
        let source = arrival[pushed].0;
        let limit = order
            .get(next_spine)
            .map_or(i64::MAX, |&r| spine_ts[r].saturating_add(disorder_us));
        let mut end = pushed;
        while end < arrival.len()
            && end - pushed < size
            && arrival[end].0 == source
            && (end == pushed || events.sources[source].rows[arrival[end].1].0 <= limit)
        {
            end += 1;
        }
        let rows: Vec<usize> = arrival[pushed..end].iter().map(|&(_, r, _)| r).collect();
        let (status, answer) = post(
            &served.addr,
            "/push",
            &push_body(&events.sources[source], &rows),
        );
        assert_eq!(status, 200, "push: {answer}");
        assert_eq!(answer["accepted"], rows.len());
        assert_eq!(answer["late"], 0, "nothing is late within the lateness");
        pushed = end;
        answer_ready(pushed, &mut next_spine, &mut answers);
    }
    assert_eq!(
        answers.len(),
        check.spine.num_rows(),
        "every spine row was read"
    );
    for (row, answer) in &answers {
        check.check_answer(case, *row, answer);
    }
    served.stop_gracefully();
    audit_equal(&dir, &served_log, check.spine.num_rows());
    let _ = std::fs::remove_dir_all(&work);
}

/// `featc audit` of the served log finds every cell of every read equal.
fn audit_equal(dir: &std::path::Path, log: &std::path::Path, reads: usize) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .arg("audit")
        .arg(dir)
        .args(["--format", "json", "-q", "--served"])
        .arg(log)
        .current_dir(repo())
        .output()
        .expect("featc audit");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Json = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["audited_reads"], reads, "{report}");
    assert_eq!(report["exact_reads"], reads, "{report}");
    assert_eq!(report["cells"]["unexplained"], 0, "{report}");
    assert!(report["cells"]["equal"]
        .as_u64()
        .is_some_and(|n| n >= reads as u64));
}

#[test]
fn synthetic_served_equals_training_set() {
    check_case("synthetic", 0, 1);
    check_case("synthetic", HOUR, 2);
}

#[test]
fn marketplace_served_equals_training_set() {
    check_case("marketplace", 0, 3);
    check_case("marketplace", 6 * HOUR, 4);
}
