//! `featc audit --state` on a real `featc serve`: the server archives the events it
//! acknowledged and logs, per read, how far into its write-ahead log its state was,
//! so the audit recomputes each differing cell from exactly what the server had
//! applied at the read. An event that arrived after a read, a read under the wall
//! clock ahead of the watermark, and an event of the training history the server
//! never acknowledged are each explained by name, and each read's staleness is
//! measured; without `--state` the same cells are unexplained.

use crate::serve_audit::{audit_report, scratch};
use crate::serve_common::*;

use serde_json::{json, Value as Json};

pub(crate) const PROJECT: &str = "source clicks {\n    time ts\n    columns { user_id: int64  amount: float64 }\n    lateness 1h\n}\nentity user { key user_id: int64 }\nview spend from clicks by user {\n    feature n_1d = count(*) over 1d\n    feature total_1d = sum(amount) over 1d\n}\n";

pub(crate) fn push(served: &Served, ts: Json, users: &[i64], amounts: &[f64]) {
    let body = json!({"push_source_name": "clicks", "to": "online",
        "df": {"ts": ts, "user_id": users, "amount": amounts}});
    let (status, answer) = post(&served.addr, "/push", &body);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["late"], 0, "{answer}");
}

pub(crate) fn read(served: &Served, users: &[i64]) {
    let body = json!({"features": ["n_1d", "total_1d"], "entities": {"user_id": users}});
    let (status, answer) = post(&served.addr, "/get-online-features", &body);
    assert_eq!(status, 200, "{answer}");
}

fn explained(doc: &Json, cause: &str) -> u64 {
    doc["cells"]["explained"][cause].as_u64().unwrap_or(0)
}

/// Under `--clock events`: user 1's 13:30 event is pushed after a read at 14:00
/// (within the source's hour of lateness, so applied), and the training history also
/// holds an event of user 2 that was never pushed.
#[test]
fn an_event_after_the_read_and_one_never_acknowledged_explain_their_cells() {
    let dir = scratch("arrivals");
    let project = dir.join("clicks.feat");
    std::fs::write(
        &project,
        PROJECT.replace("lateness 1h", "lateness 1h\n    file \"clicks.csv\""),
    )
    .expect("project");
    // The warehouse: every pushed event, and one (12:00, user 2) the server never got.
    std::fs::write(
        dir.join("clicks.csv"),
        "ts,user_id,amount\n2024-03-01T12:00:00Z,2,9.0\n2024-03-01T12:30:00Z,1,1.25\n2024-03-01T13:00:00Z,2,2.0\n2024-03-01T13:30:00Z,1,4.5\n2024-03-01T14:00:00Z,1,3.0\n",
    )
    .expect("history");
    let (state, log) = (dir.join("state"), dir.join("served"));
    let [project_arg, state_arg, log_arg] =
        [&project, &state, &log].map(|p| p.to_string_lossy().to_string());
    let served = Served::start(
        &[
            &project_arg,
            "--state",
            &state_arg,
            "--clock",
            "events",
            "--log-served",
            &log_arg,
        ],
        &dir.join("serve.txt"),
    );
    served.wait_ready();
    push(
        &served,
        json!([
            "2024-03-01T12:30:00Z",
            "2024-03-01T13:00:00Z",
            "2024-03-01T14:00:00Z"
        ]),
        &[1, 2, 1],
        &[1.25, 2.0, 3.0],
    );
    read(&served, &[1, 2]);
    push(&served, json!(["2024-03-01T13:30:00Z"]), &[1], &[4.5]);
    read(&served, &[1, 2]);
    served.stop_gracefully();

    // Without the state: user 1's first read and both of user 2's differ, unexplained.
    let doc = audit_report(&[&project_arg, "--served", &log_arg], 1);
    assert_eq!(doc["cells"]["unexplained"], 6, "{doc}");
    assert!(doc.get("staleness").is_none(), "{doc}");

    let doc = audit_report(
        &[&project_arg, "--served", &log_arg, "--state", &state_arg],
        0,
    );
    assert_eq!(doc["cells"]["unexplained"], 0, "{doc}");
    assert_eq!(
        explained(&doc, "arrived_after_read"),
        2,
        "user 1's first read: {doc}"
    );
    assert_eq!(
        explained(&doc, "not_acknowledged"),
        4,
        "user 2's reads: {doc}"
    );
    assert_eq!(doc["cells"]["equal"], 2, "user 1's second read: {doc}");
    // The first read's two rows missed the 13:30 event for 30 minutes.
    let staleness = &doc["staleness"];
    assert_eq!(staleness["reads"], 4, "{doc}");
    assert_eq!(staleness["stale_reads"], 2, "{doc}");
    assert_eq!(staleness["max_us"], 1_800_000_000i64, "{doc}");
    assert_eq!(staleness["p50_us"], 0, "{doc}");
}

/// Under the wall clock, a source with no file (pushed only): the audit reads the
/// history from the server's archive. A read at "now" comes before an event of ten
/// minutes ago that is pushed after it: the read was ahead of the watermark.
#[test]
fn a_read_ahead_of_the_watermark_under_the_wall_clock_is_explained_from_the_archive() {
    let dir = scratch("watermark");
    let project = dir.join("clicks.feat");
    std::fs::write(&project, PROJECT).expect("project");
    let (state, log) = (dir.join("state"), dir.join("served"));
    let [project_arg, state_arg, log_arg] =
        [&project, &state, &log].map(|p| p.to_string_lossy().to_string());
    // Small checkpoints: the archive is written in several files, by several
    // checkpoints, before the last one at the stop.
    let served = Served::start(
        &[
            &project_arg,
            "--state",
            &state_arg,
            "--log-served",
            &log_arg,
            "--checkpoint-events",
            "1",
        ],
        &dir.join("serve.txt"),
    );
    served.wait_ready();
    push(&served, json!([ago(20)]), &[1], &[1.5]);
    read(&served, &[1]);
    push(&served, json!([ago(10)]), &[1], &[2.5]);
    read(&served, &[1]);
    served.stop_gracefully();

    // Without the state the pushed-only source has no history at all.
    let out = crate::serve_audit::featc(&["audit", &project_arg, "--served", &log_arg, "-q"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = audit_report(
        &[&project_arg, "--served", &log_arg, "--state", &state_arg],
        0,
    );
    assert_eq!(doc["cells"]["unexplained"], 0, "{doc}");
    assert_eq!(explained(&doc, "read_ahead_of_watermark"), 2, "{doc}");
    assert_eq!(doc["cells"]["equal"], 2, "the second read: {doc}");
    let archived = std::fs::read_dir(state.join("archive").join("clicks"))
        .expect("archive")
        .count();
    assert!(archived >= 2, "one file per checkpoint: {archived}");
}

/// The wall clock `minutes` ago, in microseconds since the epoch.
fn ago(minutes: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_micros() as i64;
    now - minutes * 60_000_000
}
