//! `featc serve --audit-sample`: the server audits a fraction of its own reads in the
//! background, once a checkpoint has archived what they saw, and counts the cells on
//! `/metrics`. A healthy server's cells are equal or explained (an event pushed after
//! a read: `arrived_after_read`); a server that loses events, or counts a window's
//! edge wrong (faults injected into a debug build), is caught by its own audit
//! within seconds, and by `featc audit`.

use crate::serve_audit::{audit_report, scratch};
use crate::serve_audit_arrivals::{push, read, PROJECT};
use crate::serve_common::*;

use std::time::{Duration, Instant};

use serde_json::json;

/// Starts a server of `PROJECT` auditing every read every 200 ms, its files complete
/// after a second and checkpoints every second; returns it with its project, state
/// and log paths.
fn start(dir: &std::path::Path, env: &[(&str, &str)]) -> (Served, [String; 3]) {
    let project = dir.join("clicks.feat");
    std::fs::write(&project, PROJECT).expect("project");
    let paths = [&project, &dir.join("state"), &dir.join("served")]
        .map(|p| p.to_string_lossy().to_string());
    let [project_arg, state_arg, log_arg] = &paths;
    let served = Served::start_with_env(
        &[
            project_arg,
            "--state",
            state_arg,
            "--clock",
            "events",
            "--log-served",
            log_arg,
            "--audit-sample",
            "1",
            "--audit-interval",
            "200ms",
            "--log-served-max-age",
            "1s",
            "--checkpoint-interval",
            "1s",
        ],
        env,
        &dir.join("serve.txt"),
    );
    served.wait_ready();
    (served, paths)
}

/// Waits (30 s at most) until the background audit has audited `reads` reads.
fn audited(served: &Served, reads: f64) {
    let started = Instant::now();
    while metric(&served.addr, "featc_audit_reads_total") < reads {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the audit did not get to {reads} reads: {}",
            std::fs::read_to_string(&served.stderr).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn cells(served: &Served, labels: &str) -> f64 {
    metric(
        &served.addr,
        &format!("featc_audit_cells_total{{{labels}}}"),
    )
}

#[test]
fn the_server_audits_its_own_reads_and_counts_the_cells_on_metrics() {
    let dir = scratch("online");
    let (served, _) = start(&dir, &[]);
    push(
        &served,
        json!([
            "2024-03-01T12:30:00Z",
            "2024-03-01T13:00:00Z",
            "2024-03-01T14:00:00Z",
        ]),
        &[1, 2, 1],
        &[1.25, 2.0, 3.0],
    );
    read(&served, &[1, 2]);
    // Within the hour of lateness: applied, after the read.
    push(&served, json!(["2024-03-01T13:30:00Z"]), &[1], &[4.5]);
    read(&served, &[1, 2]);
    audited(&served, 4.0);
    assert_eq!(cells(&served, "result=\"unexplained\""), 0.0);
    assert_eq!(
        cells(&served, "result=\"explained\",cause=\"arrived_after_read\""),
        2.0,
        "user 1's first read"
    );
    assert_eq!(cells(&served, "result=\"equal\""), 6.0);
    assert_eq!(metric(&served.addr, "featc_audit_stale_reads_total"), 2.0);
    assert_eq!(metric(&served.addr, "featc_audit_failures_total"), 0.0);
    served.stop_gracefully();
}

#[test]
fn a_server_that_loses_events_is_caught_by_its_own_audit_and_by_featc_audit() {
    let dir = scratch("online_fault");
    let (served, paths) = start(&dir, &[("FEATC_TEST_FAULT", "drop-last-row")]);
    // The fault drops the push's last row, user 2's event, from the state; the log
    // and the archive keep it.
    push(
        &served,
        json!([
            "2024-03-01T12:30:00Z",
            "2024-03-01T14:00:00Z",
            "2024-03-01T13:00:00Z",
        ]),
        &[1, 1, 2],
        &[1.25, 3.0, 2.0],
    );
    read(&served, &[1, 2]);
    caught(served, paths, "2024-03-01T14:00:00Z");
}

/// An off-by-one window edge (a fault injected into a debug build: every read is
/// answered as of a microsecond before its time): an event exactly at a read's time
/// is not counted. Both audits report the cells it changes, by feature, key and time.
#[test]
fn an_off_by_one_window_edge_is_caught_by_both_audits() {
    let dir = scratch("online_edge");
    let (served, paths) = start(&dir, &[("FEATC_TEST_FAULT", "window-edge")]);
    push(
        &served,
        json!(["2024-03-01T12:00:00Z", "2024-03-01T12:30:00Z"]),
        &[1, 2],
        &[1.25, 2.0],
    );
    // At exactly user 2's event.
    let body = json!({"features": ["n_1d", "total_1d"], "entities": {"user_id": [1, 2]},
        "at": "2024-03-01T12:30:00Z"});
    let (status, answer) = post(&served.addr, "/get-online-features", &body);
    assert_eq!(status, 200, "{answer}");
    caught(served, paths, "2024-03-01T12:30:00Z");
}

/// Both audits report user 2's two cells, read at `read_time`, unexplained (and user
/// 1's two equal): the server's own on `/metrics` and stderr, then `featc audit`.
fn caught(served: Served, [project, state, log]: [String; 3], read_time: &str) {
    audited(&served, 2.0);
    assert_eq!(
        cells(&served, "result=\"unexplained\""),
        2.0,
        "user 2's cells"
    );
    assert_eq!(cells(&served, "result=\"equal\""), 2.0, "user 1's cells");
    let stderr = std::fs::read_to_string(&served.stderr).unwrap_or_default();
    assert!(stderr.contains("2 unexplained cells"), "{stderr}");
    served.stop_gracefully();

    let doc = audit_report(&[&project, "--served", &log, "--state", &state], 1);
    assert_eq!(doc["cells"]["unexplained"], 2, "{doc}");
    let finding = &doc["unexplained"][0];
    assert_eq!(finding["feature"], "n_1d", "{finding}");
    assert_eq!(finding["keys"]["user_id"], "2", "{finding}");
    assert_eq!(finding["read_time"], read_time, "{finding}");
}
