//! The `gen` binary at 20 000 events in two chunks: the files' schemas and sizes, the
//! null shares (wide tolerances: the distributions are checked against gen.py by
//! bench/peers/check_gen.py), and determinism: another seed gives other bytes, and
//! (at 140 000 events, so that chunks have several blocks) one seed the same bytes on
//! one, two or three threads.

// A test: its helpers may expect and panic, which the workspace's lints deny in
// library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampMicrosecondType};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const EVENTS: usize = 20_000;
const SPINE: usize = 1_000;
const START_US: i64 = 1_704_067_200_000_000;
const SPAN_US: i64 = 60 * 86_400_000_000;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("gen")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `gen` on `events` events in two chunks into `out`; returns its stdout.
fn gen(out: &Path, events: usize, seed: u64, threads: usize) -> String {
    let run = Command::new(env!("CARGO_BIN_EXE_gen"))
        .args(["--events", &events.to_string(), "--spine", "1e3"])
        .args(["--chunk-rows", &(events / 2).to_string()])
        .args(["--seed", &seed.to_string()])
        .args(["--threads", &threads.to_string()])
        .arg("--out")
        .arg(out)
        .output()
        .expect("gen runs");
    assert!(
        run.status.success(),
        "gen failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout).into_owned()
}

/// Whether both files of two runs are the same bytes.
fn same_files(x: &Path, y: &Path) -> bool {
    ["events.parquet", "spine.parquet"]
        .iter()
        .all(|f| std::fs::read(x.join(f)).expect("x") == std::fs::read(y.join(f)).expect("y"))
}

/// The file's batches and its number of row groups.
fn read(path: &Path) -> (Vec<RecordBatch>, usize) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("file"))
        .expect("a parquet file");
    let groups = builder.metadata().num_row_groups();
    let batches = builder
        .build()
        .expect("reader")
        .collect::<Result<Vec<_>, _>>()
        .expect("batches");
    (batches, groups)
}

fn null_share(batches: &[RecordBatch], column: &str) -> f64 {
    let nulls: usize = batches
        .iter()
        .map(|b| b.column_by_name(column).expect("column").null_count())
        .sum();
    nulls as f64 / EVENTS as f64
}

#[test]
fn writes_gen_py_files_deterministically() {
    let a = scratch("a");
    let said = gen(&a, EVENTS, 5, 2);
    assert!(
        said.starts_with(&format!(
            "wrote {}/events.parquet ({EVENTS} rows",
            a.display()
        )),
        "{said}"
    );

    let (events, groups) = read(&a.join("events.parquet"));
    assert_eq!(groups, 2, "one row group per chunk");
    assert_eq!(events.iter().map(|b| b.num_rows()).sum::<usize>(), EVENTS);
    let schema = events[0].schema();
    let types: Vec<(&str, DataType, bool)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type().clone(), f.is_nullable()))
        .collect();
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    assert_eq!(
        types,
        vec![
            ("user_id", DataType::Int64, true),
            ("ts", ts.clone(), true),
            ("amount", DataType::Float64, true),
            ("category", DataType::Utf8, true),
            ("is_mobile", DataType::Boolean, true),
        ]
    );
    // Nominal 2%, 1%, 1%; at 20 000 rows the standard error is about 0.1%.
    let amount = null_share(&events, "amount");
    assert!((0.012..0.028).contains(&amount), "amount nulls {amount}");
    for column in ["category", "is_mobile"] {
        let share = null_share(&events, column);
        assert!((0.004..0.016).contains(&share), "{column} nulls {share}");
    }
    assert_eq!(null_share(&events, "user_id"), 0.0);
    for b in &events {
        // 200 users by default (events / 100), ids from 1000.
        let users = b.column(0).as_primitive::<Int64Type>();
        assert!(users.values().iter().all(|u| (1000..1200).contains(u)));
        let times = b.column(1).as_primitive::<TimestampMicrosecondType>();
        assert!(times
            .values()
            .iter()
            .all(|t| (START_US..START_US + SPAN_US).contains(t)));
    }

    let (spine, _) = read(&a.join("spine.parquet"));
    assert_eq!(spine.iter().map(|b| b.num_rows()).sum::<usize>(), SPINE);
    let fields: Vec<(String, DataType)> = spine[0]
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("user_id".to_string(), DataType::Int64),
            ("ts".to_string(), ts),
            ("label".to_string(), DataType::Int8),
        ]
    );

    // Another seed: other bytes.
    let c = scratch("c");
    gen(&c, EVENTS, 6, 2);
    assert!(!same_files(&a, &c), "the same files for two seeds");
    for dir in [a, c] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn one_seed_gives_the_same_bytes_on_any_number_of_threads() {
    // 70 000-row chunks: two blocks of rows each (65 536 rows a block), so that
    // threads draw the blocks of a chunk in either order.
    let events = 140_000;
    let runs: Vec<PathBuf> = [1, 2, 3]
        .iter()
        .map(|&threads| {
            let out = scratch(&format!("threads{threads}"));
            gen(&out, events, 9, threads);
            out
        })
        .collect();
    assert!(same_files(&runs[0], &runs[1]), "1 and 2 threads differ");
    assert!(same_files(&runs[0], &runs[2]), "1 and 3 threads differ");
    for dir in runs {
        let _ = std::fs::remove_dir_all(dir);
    }
}
