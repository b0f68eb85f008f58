//! Integer times in source files (docs/semantics.md, "Time"): the fraud transactions
//! with their times written as integers, in CSV cells and in a Parquet Int64 column,
//! give the training set of the original file when the integers are 16-digit
//! microseconds or counted in the source's declared `epoch` unit, on the batch path
//! (`training-set`) and the streaming path (`replay`) alike; epoch seconds without a
//! unit stop the run naming the value and the clause that reads them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;

use crate::cli_common::{featc, scratch, stderr};

const SPINE: &str = "examples/fraud/data/spine.csv";

/// A time in microseconds as an integer of some unit.
type ToUnit = fn(i64) -> i64;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A copy of the fraud example, its `transactions` source declaring `epoch`
/// (`unit`, when given).
fn fraud_copy(dir: &Path, unit: Option<&str>) -> PathBuf {
    let project = dir.join("fraud");
    std::fs::create_dir_all(&project).expect("project dir");
    for file in ["features.feat", "sources.feat"] {
        let mut text =
            std::fs::read_to_string(repo().join("examples/fraud").join(file)).expect("feat");
        if let (Some(unit), "sources.feat") = (unit, file) {
            text = text.replacen(
                "source transactions {\n",
                &format!("source transactions {{\n    epoch {unit}\n"),
                1,
            );
        }
        // The data stays where it is.
        text = text.replace(
            "\"data/",
            &format!("\"{}/examples/fraud/data/", repo().display()),
        );
        std::fs::write(project.join(file), text).expect("write feat");
    }
    project
}

/// The transactions' rows: (time in µs, the other cells as written).
fn transactions() -> Vec<(i64, Vec<String>)> {
    let text = std::fs::read_to_string(repo().join("examples/fraud/data/transactions.csv"))
        .expect("transactions");
    text.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<String> = line.split(',').map(str::to_string).collect();
            let us = featc_server::wire::time::parse_time_text(&cells[2]).expect("a time");
            (us, cells)
        })
        .collect()
}

/// The transactions as CSV with their times as `time(µs)`.
fn csv_with(dir: &Path, name: &str, time: impl Fn(i64) -> i64) -> PathBuf {
    let mut out = String::from("user_id,merchant_id,ts,amount,category,is_mobile\n");
    for (us, mut cells) in transactions() {
        cells[2] = time(us).to_string();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, out).expect("csv");
    path
}

/// The transactions as Parquet with an Int64 time column of `time(µs)`.
fn parquet_with(dir: &Path, name: &str, time: impl Fn(i64) -> i64) -> PathBuf {
    let rows = transactions();
    let text = |i: usize| -> Vec<Option<String>> {
        rows.iter()
            .map(|(_, c)| Some(c[i].clone()).filter(|s| !s.is_empty()))
            .collect()
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(
            rows.iter()
                .map(|(_, c)| c[0].parse::<i64>().expect("user_id"))
                .collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(text(1))),
        Arc::new(Int64Array::from(
            rows.iter().map(|(us, _)| time(*us)).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            text(3)
                .into_iter()
                .map(|s| s.map(|s| s.parse::<f64>().expect("amount")))
                .collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(text(4))),
        Arc::new(BooleanArray::from(
            text(5)
                .into_iter()
                .map(|s| s.map(|s| s == "true"))
                .collect::<Vec<_>>(),
        )),
    ];
    let schema = Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Int64, false),
        Field::new("merchant_id", DataType::Utf8, true),
        Field::new("ts", DataType::Int64, false),
        Field::new("amount", DataType::Float64, true),
        Field::new("category", DataType::Utf8, true),
        Field::new("is_mobile", DataType::Boolean, true),
    ]));
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns).expect("batch");
    let path = dir.join(name);
    let file = std::fs::File::create(&path).expect("parquet file");
    let mut writer = ArrowWriter::try_new(file, schema, None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    path
}

/// `featc COMMAND project --spine .. --source transactions=TX --out OUT`: the output
/// file's text, or the error.
fn run(command: &str, project: &Path, tx: &Path, out: &Path) -> Result<String, String> {
    let o = featc(&[
        command,
        &project.display().to_string(),
        "--spine",
        SPINE,
        "--source",
        &format!("transactions={}", tx.display()),
        "--out",
        &out.display().to_string(),
    ]);
    if !o.status.success() {
        return Err(stderr(&o));
    }
    Ok(std::fs::read_to_string(out).expect("output"))
}

#[test]
fn integer_times_in_files_read_in_their_unit_on_both_paths() {
    let dir = scratch("cli_times/units");
    let original = repo().join("examples/fraud/data/transactions.csv");
    let expected = run(
        "training-set",
        &fraud_copy(&dir.join("plain"), None),
        &original,
        &dir.join("expected.csv"),
    )
    .expect("the original runs");
    let cases: [(Option<&str>, ToUnit); 4] = [
        (None, |us| us),
        (Some("s"), |us| us / 1_000_000),
        (Some("ms"), |us| us / 1_000),
        (Some("ns"), |us| us * 1_000),
    ];
    for (unit, time) in cases {
        let name = unit.unwrap_or("none");
        let project = fraud_copy(&dir.join(name), unit);
        let files = [
            csv_with(&dir, &format!("{name}.csv"), time),
            parquet_with(&dir, &format!("{name}.parquet"), time),
        ];
        for tx in files {
            for command in ["training-set", "replay"] {
                let out = dir.join(format!("{name}-{command}.csv"));
                let got = run(command, &project, &tx, &out)
                    .unwrap_or_else(|e| panic!("{name} {command} {}: {e}", tx.display()));
                assert!(got == expected, "{name} {command} {}", tx.display());
            }
        }
    }
}

#[test]
fn epoch_seconds_without_a_unit_stop_the_run_naming_the_clause() {
    let dir = scratch("cli_times/refused");
    let project = fraud_copy(&dir, None);
    let seconds = |us: i64| us / 1_000_000;
    let files = [
        csv_with(&dir, "seconds.csv", seconds),
        parquet_with(&dir, "seconds.parquet", seconds),
    ];
    for tx in files {
        for command in ["training-set", "replay"] {
            let err = run(command, &project, &tx, &dir.join("o.csv"))
                .expect_err("epoch seconds are refused");
            assert!(
                err.contains("transactions") && err.contains("`epoch s`"),
                "{command} {}: {err}",
                tx.display()
            );
        }
    }
}
