//! The served log (`ServeConfig::log_served`, `featc serve --log-served DIR`): every
//! answered vector of `/get-online-features` (JSON and Arrow reads) lands in DIR's
//! Parquet files (read back here and compared with the answers, cell by cell), files
//! rotate by size and complete on a graceful stop, and `/metrics` shows each feature's
//! fill ratio over the served vectors. (That `featc stats` and `featc drift` read the
//! folder is cli/tests/serve_log.rs's.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{json, Value as Json};

use crate::support::*;

fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("serve_log")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// A logged cell as the JSON the read answered it as.
fn cell(column: &dyn Array, row: usize) -> Json {
    if column.is_null(row) {
        return Json::Null;
    }
    match column.data_type() {
        DataType::Int64 => json!(column.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => json!(column.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => json!(column.as_string::<i32>().value(row)),
        DataType::Boolean => json!(column.as_boolean().value(row)),
        other => panic!("unexpected column type {other}"),
    }
}

/// An Arrow read of `users` (an IPC stream of one `user_id` column): the answer.
fn arrow_read(served: &Served, path: &str, users: &[i64]) -> RecordBatch {
    let ids: ArrayRef = Arc::new(Int64Array::from(users.to_vec()));
    let schema = Arc::new(Schema::new(vec![Field::new(
        "user_id",
        DataType::Int64,
        false,
    )]));
    let rows = RecordBatch::try_new(schema, vec![ids]).expect("rows");
    let body = arrow_body(&rows);
    let content = ("Content-Type", "application/vnd.apache.arrow.stream");
    let (status, raw) = request(served, "POST", path, &[content], &body);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&raw));
    let reader = StreamReader::try_new(std::io::Cursor::new(raw), None).expect("an IPC stream");
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("a batch")).collect();
    datafusion::arrow::compute::concat_batches(&schema, &batches).expect("concat")
}

fn read_log(dir: &Path) -> (Vec<PathBuf>, Vec<RecordBatch>) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("log folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut batches = Vec::new();
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        assert!(
            name.starts_with("served-") && name.ends_with(".parquet"),
            "only completed files after a graceful stop: {name}"
        );
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(f).expect("open"))
                .expect("a complete Parquet file")
                .build()
                .expect("reader");
        batches.extend(reader.map(|b| b.expect("batch")));
    }
    (files, batches)
}

/// A vector as answered: entity values by name, and each feature's value and status.
type Vector = (HashMap<String, Json>, HashMap<String, (Json, Json)>);

#[test]
fn every_answered_vector_is_logged_and_counted() {
    let dir = scratch("logged");
    let log = dir.join("served");
    let mut config = Served::config();
    config.clock = featc_server::Clock::Events;
    config.log_served = Some(log.clone());
    // Tiny: every row group completes a file, so the reads below rotate.
    config.log_served_rotate = 1;
    // What `featc serve` adds (the features' meanings) is kept in every file.
    config.log_served_metadata = vec![("featc.meanings".into(), "{\"f\":\"0\"}".into())];
    let started = wall_us();
    let served = Served::start(Path::new("examples/fraud"), config, true);
    let reads = [
        json!({"feature_service": "fraud_v1", "entities": {"user_id": [1, 2, 3], "merchant_id": ["m_cafe", "m_fuel", "m_books"]}}),
        json!({"features": ["txn_count_7d", "last_country"], "entities": {"user_id": [4, 999]}}),
        json!({"feature_service": "fraud_v1", "entities": {"user_id": [5], "merchant_id": ["m_games"]}}),
    ];
    // One per vector.
    let mut expected: Vec<Vector> = Vec::new();
    let mut asked: HashMap<String, (u64, u64)> = HashMap::new();
    for body in &reads {
        let (status, answer) = post(&served, "/get-online-features", body);
        assert_eq!(status, 200, "{answer}");
        let names: Vec<String> = answer["metadata"]["feature_names"]
            .as_array()
            .expect("names")
            .iter()
            .map(|n| n.as_str().unwrap_or("").to_string())
            .collect();
        let results = answer["results"].as_array().expect("results");
        let entities = body["entities"].as_object().expect("entities").len();
        let rows = results[0]["values"].as_array().expect("values").len();
        // `row` indexes every column of the answer, not one list.
        #[allow(clippy::needless_range_loop)]
        for row in 0..rows {
            let mut keys = HashMap::new();
            let mut features = HashMap::new();
            for (i, name) in names.iter().enumerate() {
                let value = results[i]["values"][row].clone();
                if i < entities {
                    keys.insert(name.clone(), value);
                } else {
                    let counts = asked.entry(name.clone()).or_default();
                    counts.0 += 1;
                    counts.1 += u64::from(!value.is_null());
                    features.insert(name.clone(), (value, results[i]["statuses"][row].clone()));
                }
            }
            expected.push((keys, features));
        }
        // Let the writer's idle flush complete a file between reads.
        std::thread::sleep(std::time::Duration::from_millis(1300));
    }
    // An Arrow read is logged and counted like a JSON one.
    let arrow_answer = arrow_read(
        &served,
        "/get-online-features?features=txn_count_7d,last_country",
        &[6, 7, 404],
    );
    for row in 0..arrow_answer.num_rows() {
        let column = |name: &str| arrow_answer.column_by_name(name).expect("column");
        let keys = HashMap::from([("user_id".to_string(), cell(column("user_id"), row))]);
        let mut features = HashMap::new();
        for name in ["txn_count_7d", "last_country"] {
            let value = cell(column(name), row);
            let counts = asked.entry(name.to_string()).or_default();
            counts.0 += 1;
            counts.1 += u64::from(!value.is_null());
            let status = cell(column(&format!("{name}__status")), row);
            features.insert(name.to_string(), (value, status));
        }
        expected.push((keys, features));
    }
    std::thread::sleep(std::time::Duration::from_millis(1300));
    let (_, metrics) = get(&served, "/metrics");
    for (name, (n, filled)) in &asked {
        let ratio = format!("featc_served_feature_fill_ratio{{feature=\"{name}\"}} ");
        let line = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&ratio))
            .unwrap_or_else(|| panic!("no fill ratio for {name}:\n{metrics}"));
        let got: f64 = line.parse().expect("a number");
        assert!(
            (got - *filled as f64 / *n as f64).abs() < 1e-12,
            "{name}: {got}"
        );
        let count = format!("featc_served_feature_vectors_total{{feature=\"{name}\"}} {n}");
        assert!(metrics.contains(&count), "{count}");
    }
    assert!(
        metrics.contains("featc_served_log_dropped_vectors_total 0"),
        "{metrics}"
    );
    served.stop();

    let (files, batches) = read_log(&log);
    assert!(files.len() >= 3, "rotated by size: {files:?}");
    let rows: Vec<(RecordBatch, usize)> = batches
        .iter()
        .flat_map(|b| (0..b.num_rows()).map(move |r| (b.clone(), r)))
        .collect();
    assert_eq!(rows.len(), expected.len(), "one row per answered vector");
    for ((batch, r), (keys, features)) in rows.iter().zip(&expected) {
        for (name, value) in keys {
            let column = batch.column_by_name(name).expect("key column");
            assert_eq!(&cell(column, *r), value, "key {name}");
        }
        for (name, (value, status)) in features {
            let column = batch.column_by_name(name).expect("feature column");
            let got = cell(column, *r);
            match (value.as_f64(), got.as_f64()) {
                (Some(a), Some(b)) => assert_eq!(a, b, "{name}"),
                _ => assert_eq!(&got, value, "{name}"),
            }
            let status_column = batch
                .column_by_name(&format!("{name}__status"))
                .expect("status column");
            assert_eq!(&cell(status_column, *r), status, "{name} status");
        }
        // A feature the read did not ask for has no status.
        if !features.contains_key("amount_avg_7d") {
            let s = batch
                .column_by_name("amount_avg_7d__status")
                .expect("status");
            assert!(s.is_null(*r));
        }
        // When it was answered, by the wall clock (the read time is the events').
        let at = batch
            .column_by_name("served_at")
            .expect("served_at")
            .as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>()
            .value(*r);
        assert!((started..=wall_us()).contains(&at), "served_at {at}");
    }
    for f in &files {
        let file = std::fs::File::open(f).expect("open");
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
        let schema = builder.schema();
        assert_eq!(
            schema.metadata().get("featc.meanings").map(String::as_str),
            Some("{\"f\":\"0\"}")
        );
        // The fraud example has no request field and no lookup: no column for them.
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert!(
            !names.iter().any(|n| n.starts_with("held_from.")),
            "{names:?}"
        );
    }
}

fn wall_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
