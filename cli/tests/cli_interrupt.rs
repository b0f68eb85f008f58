//! `featc training-set` stopped by SIGINT or SIGTERM while its sorts spill leaves no
//! temporary file: its spill folder (DataFusion's, under TMPDIR) and the output's
//! temporary file are removed, and it exits with 130 or 143 (`src/interrupt.rs`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;

use crate::cli_common;

const PROJECT: &str = "source events {\n    time ts\n    columns {\n        user_id: int64\n        amount: float64\n    }\n}\n\
entity user { key user_id: int64 }\n\
view spend from events by user {\n    feature amount_7d = sum(amount) over 7d\n    feature payments = count(*)\n}\n";

/// Events enough that sorting them under a memory limit of 4 MiB spills for a while.
const EVENTS: usize = 1_500_000;
const USERS: i64 = 20_000;
const SECOND: i64 = 1_000_000;

fn write_parquet(path: &Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).expect("a Parquet file");
    let mut writer = ArrowWriter::try_new(file, batches[0].schema(), None).expect("a writer");
    for b in batches {
        writer.write(b).expect("written");
    }
    writer.close().expect("closed");
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Events out of time order (so every one of them goes through the sort), in chunks.
fn events() -> Vec<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", ts_type(), false),
        Field::new("user_id", DataType::Int64, false),
        Field::new("amount", DataType::Float64, false),
    ]));
    let n = EVENTS as i64;
    (0..n)
        .step_by(100_000)
        .map(|start| {
            let rows = start..(start + 100_000).min(n);
            let columns: Vec<ArrayRef> = vec![
                Arc::new(
                    TimestampMicrosecondArray::from(
                        rows.clone()
                            .map(|i| (i * 7_919 % n) * SECOND)
                            .collect::<Vec<_>>(),
                    )
                    .with_timezone("UTC"),
                ),
                Arc::new(Int64Array::from(
                    rows.clone().map(|i| i * 31 % USERS).collect::<Vec<_>>(),
                )),
                Arc::new(Float64Array::from(
                    rows.map(|i| (i % 1_000) as f64 / 10.0).collect::<Vec<_>>(),
                )),
            ];
            RecordBatch::try_new(Arc::clone(&schema), columns).expect("events")
        })
        .collect()
}

fn spine() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Int64, false),
        Field::new("ts", ts_type(), false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from((0..USERS).collect::<Vec<_>>())),
        Arc::new(
            TimestampMicrosecondArray::from(vec![EVENTS as i64 * SECOND; USERS as usize])
                .with_timezone("UTC"),
        ),
    ];
    RecordBatch::try_new(schema, columns).expect("spine")
}

/// A project, its events and spine, written once into `dir`.
struct Inputs {
    project: PathBuf,
    events: PathBuf,
    spine: PathBuf,
}

fn inputs(dir: &Path) -> Inputs {
    let project = dir.join("spend.feat");
    std::fs::write(&project, PROJECT).expect("the project");
    let events_path = dir.join("events.parquet");
    write_parquet(&events_path, &events());
    let spine_path = dir.join("spine.parquet");
    write_parquet(&spine_path, &[spine()]);
    Inputs {
        project,
        events: events_path,
        spine: spine_path,
    }
}

/// Starts the training set with `tmp` as its TMPDIR, writing to `out`.
fn start(inputs: &Inputs, tmp: &Path, out: &Path) -> Child {
    let source = format!("events={}", inputs.events.display());
    Command::new(env!("CARGO_BIN_EXE_featc"))
        .args([
            "training-set".as_ref(),
            inputs.project.as_os_str(),
            "--spine".as_ref(),
            inputs.spine.as_os_str(),
            "--source".as_ref(),
            source.as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
            "--memory-limit".as_ref(),
            "4MiB".as_ref(),
            "--partitions".as_ref(),
            "1".as_ref(),
            "--batch-size".as_ref(),
            "512".as_ref(),
            "--quiet".as_ref(),
        ])
        .env("TMPDIR", tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("featc starts")
}

/// Every file under `dir`, at any depth.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(_) => found.push(path),
                Err(_) => {}
            }
        }
    }
    found
}

/// Runs the training set, sends `signal` once a spill file exists under its TMPDIR,
/// and returns its exit status and what it wrote to stderr.
fn stop_while_spilling(inputs: &Inputs, dir: &Path, signal: &str) -> (Option<i32>, String) {
    let tmp = featc_test_support::scratch::fresh_dir(dir.join(format!("tmp-{signal}")));
    let out = dir.join(format!("out-{signal}.parquet"));
    let mut child = start(inputs, &tmp, &out);
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!(
                "the training set ended ({status}) before it spilled: {}",
                std::io::read_to_string(child.stderr.take().expect("stderr")).unwrap_or_default()
            );
        }
        if !files_under(&tmp).is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no spill file under {} after 5 minutes",
            tmp.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success(), "kill -{signal}");
    let output = child.wait_with_output().expect("featc ends");
    let stderr = cli_common::stderr(&output);
    let left: Vec<PathBuf> = std::fs::read_dir(&tmp)
        .expect("the temporary directory")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(
        left.is_empty(),
        "kill -{signal} left {left:?} (files: {:?})\n{stderr}",
        files_under(&tmp)
    );
    // Nothing beside the output either: no output, no temporary output file.
    let beside: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the scratch folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(&format!("out-{signal}")))
        })
        .collect();
    assert!(beside.is_empty(), "kill -{signal} left {beside:?}");
    (output.status.code(), stderr)
}

#[test]
fn a_training_set_stopped_while_spilling_leaves_no_temporary_file() {
    let dir = cli_common::scratch("cli_interrupt/spilling");
    let inputs = inputs(&dir);
    let (status, stderr) = stop_while_spilling(&inputs, &dir, "INT");
    assert_eq!(status, Some(130), "{stderr}");
    assert!(stderr.contains("stopped by SIGINT"), "{stderr}");
    let (status, stderr) = stop_while_spilling(&inputs, &dir, "TERM");
    assert_eq!(status, Some(143), "{stderr}");
    assert!(stderr.contains("stopped by SIGTERM"), "{stderr}");
}
