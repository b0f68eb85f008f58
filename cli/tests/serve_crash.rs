//! Durability of `featc serve --state`: the server is killed with SIGKILL at random
//! moments (during pushes, during checkpoints, with entity states on disk behind a
//! cache of a few entities), restarted on the same state, and the
//! client re-sends what was not acknowledged (with the same idempotency key); a push
//! left unanswered by a server that did not die (a timeout, a garbled answer) fails
//! the test as a hang instead of being restarted away; at the end the state holds
//! every event exactly once and reads equal `featc
//! training-set`. A torn write at the log's end is dropped and reported; a state
//! directory of other features is refused, naming them, and one of the same features
//! reordered is reused with its state.

use crate::serve_common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{ArrayRef, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::json;
use serve_common::*;

/// Starts the synthetic case on `state`, waiting until it answers. Its entity states
/// are on disk with a cache of 64 KiB (a few entities): most pushes and reads load
/// their entity from disk and evict another, so the kills land in the middle of that
/// too.
fn start(state: &std::path::Path, log: &std::path::Path) -> Served {
    start_with(state, log, &[])
}

/// `start` with more flags.
fn start_with(state: &std::path::Path, log: &std::path::Path, more: &[&str]) -> Served {
    let mut args = vec![
        "tests/cases/synthetic",
        "--state",
        state.to_str().expect("path"),
        "--checkpoint-events",
        "4000",
        "--memory-limit",
        "64KiB",
    ];
    args.extend_from_slice(more);
    let served = Served::start(&args, log);
    served.wait_ready();
    served
}

/// Kills `pid` with SIGKILL after `ms` unless `cancel` is set first.
fn kill_later(pid: u32, ms: u64, cancel: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(ms));
        if !cancel.load(Ordering::SeqCst) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    })
}

/// Kills `pid` with SIGKILL while it writes a checkpoint: as soon as the checkpoint's
/// temporary file appears in `state` (unless `cancel` is set first). The `kill` is a
/// shell started up front and told to go, so it lands within the write.
fn kill_in_checkpoint(
    pid: u32,
    state: std::path::PathBuf,
    cancel: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    use std::io::Write;
    std::thread::spawn(move || {
        let mut shell = std::process::Command::new("sh")
            .args(["-c", &format!("read go && kill -KILL {pid}")])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        let temp = state.join("checkpoint.tmp");
        while !cancel.load(Ordering::SeqCst) {
            if temp.exists() {
                if let Some(mut stdin) = shell.stdin.take() {
                    let _ = stdin.write_all(b"go\n");
                }
                break;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
        drop(shell.stdin.take());
        let _ = shell.wait();
    })
}

fn write_parquet(path: &std::path::Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).expect("create");
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
        .expect("writer");
    w.write(batch).expect("write");
    w.close().expect("close");
}

#[test]
fn sigkill_at_random_moments_loses_nothing_and_counts_nothing_twice() {
    let dir = repo().join("tests/cases/synthetic");
    let (project, graph) = compile(&dir);
    let events = events(&project, &graph);
    let work = crate::cli_common::scratch("serve_crash/sigkill");
    let state = work.join("state");
    let log = work.join("stderr.txt");
    let source = &events.sources[0];
    let mut order: Vec<usize> = (0..source.rows.len()).collect();
    order.sort_by_key(|&r| (source.rows[r].0, r));
    let batches: Vec<&[usize]> = {
        let mut out = Vec::new();
        let mut at = 0;
        let mut i = 0u64;
        while at < order.len() {
            let n = (1 + mix(77 ^ i) % 1500) as usize;
            let end = (at + n).min(order.len());
            out.push(&order[at..end]);
            at = end;
            i += 1;
        }
        out
    };

    let mut served = start(&state, &log);
    let mut kills = 0;
    let mut in_checkpoint = 0;
    let mut next = 0;
    let mut killer: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)> = None;
    while next < batches.len() {
        // Six kills, more (up to twelve) until two landed inside a checkpoint.
        let more = kills < 6 || (in_checkpoint < 2 && kills < 12);
        if killer.is_none() && more && next > 0 {
            // Every other kill lands at a random moment, the others inside a checkpoint.
            let cancel = Arc::new(AtomicBool::new(false));
            let pid = served.child.id();
            let k = if kills % 2 == 0 {
                kill_later(pid, 20 + mix(kills as u64 + 1000) % 300, cancel.clone())
            } else {
                kill_in_checkpoint(pid, state.clone(), cancel.clone())
            };
            killer = Some((cancel, k));
        }
        let key = format!("batch-{next}");
        let answer = try_post_with(
            &served.addr,
            "/push",
            &[("Idempotency-Key", &key)],
            &push_body(source, batches[next]),
        );
        match answer {
            Ok((200, a)) => {
                assert_eq!(a["accepted"], batches[next].len(), "{a}");
                next += 1;
            }
            Ok((status, a)) => panic!("push {next}: {status} {a}"),
            Err(no_answer) => {
                // Only a dead server may leave a push unanswered: a timeout, or any
                // failure while the process still runs, is a hang or a bug (reported,
                // never restarted away).
                assert_ne!(
                    no_answer,
                    NoAnswer::TimedOut,
                    "push {next}: no answer in time: the server hangs"
                );
                assert!(
                    served.exited_within(Duration::from_secs(10)),
                    "push {next}: {no_answer:?} from a server that is still running; stderr:\n{}",
                    served.stderr_text()
                );
                // The server died (the kill): restart on the same state and re-send
                // the batch that was not acknowledged.
                // A killer started after an earlier kill landed between two requests
                // waits for a checkpoint the dead server never writes: cancel it.
                if let Some((cancel, k)) = killer.take() {
                    cancel.store(true, Ordering::SeqCst);
                    k.join().expect("killer");
                }
                kills += 1;
                served.kill();
                served = start(&state, &log);
                if served
                    .stderr_text()
                    .contains("was being written when the server stopped")
                {
                    in_checkpoint += 1;
                }
            }
        }
        if let Some((cancel, k)) = killer.take_if(|(_, k)| k.is_finished()) {
            cancel.store(true, Ordering::SeqCst);
            k.join().expect("killer");
            // The kill may have landed between two requests: the next push finds out.
        }
    }
    if let Some((cancel, k)) = killer.take() {
        cancel.store(true, Ordering::SeqCst);
        k.join().expect("killer");
    }
    assert!(kills >= 4, "the test killed the server {kills} times");
    assert!(
        in_checkpoint >= 2,
        "{in_checkpoint} of {kills} kills landed inside a checkpoint"
    );

    // A torn write at the log's end (a push that was being written when the process
    // died) is dropped and reported.
    served.kill();
    let journal = std::fs::read_dir(state.join("log"))
        .expect("log dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jnl"))
        .max_by_key(|p| {
            std::fs::metadata(p)
                .map(|m| m.modified().ok())
                .ok()
                .flatten()
        })
        .expect("a journal");
    let mut bytes = std::fs::read(&journal).expect("journal");
    bytes.extend_from_slice(&[0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00]);
    std::fs::write(&journal, &bytes).expect("tear");
    // The recovered server logs what it serves, for `featc audit` below.
    let served_log = work.join("served");
    let served = start_with(
        &state,
        &log,
        &["--log-served", served_log.to_str().expect("path")],
    );
    let stderr = served.stderr_text();
    assert!(stderr.contains("torn write"), "{stderr}");
    assert!(
        stderr.contains("loaded checkpoint of record"),
        "checkpoints were taken: {stderr}"
    );

    // Every event exactly once, and the values of the batch path.
    let metrics = get(&served.addr, "/metrics").1;
    let events_total = metrics
        .lines()
        .find_map(|l| l.strip_prefix("featc_events_total "))
        .expect("metric");
    assert_eq!(events_total, source.rows.len().to_string(), "{stderr}");
    let end = source.rows.iter().map(|r| r.0).max().expect("events") + 1;
    let mut users = source.distinct_ints("user_id");
    users.push(-1); // an unknown entity
    let spine = RecordBatch::try_new(
        std::sync::Arc::new(Schema::new(vec![
            Field::new("user_id", DataType::Int64, false),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
        ])),
        vec![
            std::sync::Arc::new(Int64Array::from(users.clone())) as ArrayRef,
            std::sync::Arc::new(
                TimestampMicrosecondArray::from(vec![end; users.len()]).with_timezone("UTC"),
            ),
        ],
    )
    .expect("spine");
    write_parquet(&work.join("spine.parquet"), &spine);
    let out = work.join("training.parquet");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .args([
            "training-set",
            "tests/cases/synthetic",
            "--quiet",
            "--spine",
        ])
        .arg(work.join("spine.parquet"))
        .arg("--out")
        .arg(&out)
        .current_dir(repo())
        .status()
        .expect("training-set");
    assert!(status.success());
    let training = read_parquet(&out);
    let features: Vec<String> = project
        .all_features()
        .into_iter()
        .map(|f| project.feature(f).name.clone())
        .collect();
    let body = json!({"features": features, "entities": {"user_id": users}, "at": end});
    let (s, answer) = post(&served.addr, "/get-online-features", &body);
    assert_eq!(s, 200, "{answer}");
    for (f, name) in features.iter().enumerate() {
        let column = training.column_by_name(name).expect("column");
        let served_values = &answer["results"][1 + f]["values"];
        for row in 0..users.len() {
            let want = expected_cell(column, row);
            let got = served_cell(&served_values[row], column.data_type());
            assert_eq!(got, want, "user {} feature {name}", users[row]);
        }
    }
    assert_eq!(served.terminate().code(), Some(0));

    // The audit of what the recovered server served: every cell equal to the
    // training set's, recomputed from the case's own events.
    let audit = std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .args([
            "audit",
            "tests/cases/synthetic",
            "--format",
            "json",
            "-q",
            "--served",
        ])
        .arg(&served_log)
        .current_dir(repo())
        .output()
        .expect("featc audit");
    assert_eq!(
        audit.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&audit.stdout).expect("JSON");
    assert_eq!(report["audited_reads"], users.len(), "{report}");
    assert_eq!(report["exact_reads"], users.len(), "{report}");
    assert_eq!(
        report["cells"]["equal"],
        users.len() * features.len(),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn a_state_of_other_features_is_refused_naming_them() {
    let work = crate::cli_common::scratch("serve_crash/identity");
    let project = work.join("project");
    std::fs::create_dir_all(&project).expect("dir");
    for f in ["features.feat", "sources.feat"] {
        std::fs::copy(repo().join("examples/fraud").join(f), project.join(f)).expect("copy");
    }
    let data = repo().join("examples/fraud/data");
    let text = std::fs::read_to_string(project.join("sources.feat")).expect("read");
    std::fs::write(
        project.join("sources.feat"),
        text.replace("\"data/", &format!("\"{}/", data.display())),
    )
    .expect("write");
    let state = work.join("state");
    let args = |p: &std::path::Path| -> Vec<String> {
        vec![
            p.display().to_string(),
            "--state".into(),
            state.display().to_string(),
        ]
    };
    let a = args(&project);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let mut first = a.clone();
    first.extend(["--bootstrap", "--clock", "events"]);
    let served = Served::start(&first, &work.join("first.txt"));
    served.wait_ready();
    let read = json!({"feature_service": "fraud_v1", "entities": {"user_id": [1, 2, 3], "merchant_id": ["m1", "m2", "m3"]}});
    let (status, before) = post(&served.addr, "/get-online-features", &read);
    assert_eq!(status, 200, "{before}");
    assert_eq!(served.terminate().code(), Some(0));

    // Same features, other comments: reused.
    let features = std::fs::read_to_string(project.join("features.feat")).expect("read");
    std::fs::write(
        project.join("features.feat"),
        format!("// edited\n{features}"),
    )
    .expect("write");
    let served = Served::start(&a, &work.join("second.txt"));
    served.wait_ready();
    assert_eq!(served.terminate().code(), Some(0));

    // The view's features in reverse order: the same features, so the checkpoint is
    // loaded (planned in the layout it records) and answers as before.
    let lines: Vec<&str> = features.lines().collect();
    let rows: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim_start().starts_with("feature "))
        .take_while(|&i| !lines[..i].iter().any(|l| l.starts_with('}')))
        .collect();
    assert!(rows.len() > 3, "the first view's features: {rows:?}");
    let mut reversed: Vec<&str> = lines.clone();
    for (slot, from) in rows.iter().zip(rows.iter().rev()) {
        reversed[*slot] = lines[*from];
    }
    std::fs::write(project.join("features.feat"), reversed.join("\n")).expect("write");
    let mut again = a.clone();
    again.extend(["--clock", "events"]);
    let served = Served::start(&again, &work.join("reordered.txt"));
    served.wait_ready();
    let (status, after) = post(&served.addr, "/get-online-features", &read);
    assert_eq!(status, 200, "{after}");
    assert_eq!(after, before);
    assert_eq!(served.terminate().code(), Some(0));
    std::fs::write(project.join("features.feat"), &features).expect("write");

    // One window changed: refused, naming the feature. (Checked to change the text:
    // an edit that no longer matches the example's layout would leave the project as
    // it was, and the server would run instead of refusing.)
    let changed: String = features
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("feature txn_count_1h ") {
                line.replace("over 1h", "over 2h")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(
        changed.trim_end(),
        features.trim_end(),
        "the window was edited"
    );
    std::fs::write(project.join("features.feat"), changed).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_featc"))
        .arg("serve")
        .args(&a)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .expect("featc serve");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("changed: txn_count_1h"), "{stderr}");
    assert!(
        !stderr.contains("txn_count_7d"),
        "only what changed: {stderr}"
    );
    let _ = std::fs::remove_dir_all(&work);
}
