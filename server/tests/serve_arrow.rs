//! The server's Arrow reads and pushes (what `featc.Client` sends): an Arrow read
//! answers the values a JSON read answers, bit for bit, as typed columns with Feast's
//! statuses; an Arrow push is checked and applied like a JSON one; every refusal is a
//! JSON 4xx naming the field, and a refused push changes nothing.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::ipc::reader::StreamReader;
use serde_json::{json, Value as Json};

use crate::support::*;

const ARROW: (&str, &str) = ("Content-Type", "application/vnd.apache.arrow.stream");

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("batch")
}

/// An Arrow request: (status, the answer as a table, or the JSON error).
fn arrow(served: &Served, path: &str, body: &[u8]) -> (u16, Result<RecordBatch, Json>) {
    let (status, raw) = request(served, "POST", path, &[ARROW], body);
    if status != 200 || raw.first() == Some(&b'{') {
        let json = serde_json::from_slice(&raw)
            .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&raw).into_owned()));
        return (status, Err(json));
    }
    let reader = StreamReader::try_new(std::io::Cursor::new(raw), None).expect("an IPC stream");
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("a batch")).collect();
    let one = datafusion::arrow::compute::concat_batches(&schema, &batches).expect("concat");
    (status, Ok(one))
}

fn refused(
    answer: (u16, Result<RecordBatch, Json>),
    status: u16,
    code: &str,
    field: &str,
) -> String {
    let (s, body) = answer;
    let json = body.expect_err("a refusal");
    assert_eq!(s, status, "{json}");
    let error = refusal(&json);
    assert_eq!(error["code"], code, "{json}");
    assert_eq!(error["field"].as_str().unwrap_or(""), field, "{json}");
    error["message"].as_str().expect("message").to_string()
}

fn transactions(users: &[Option<i64>]) -> RecordBatch {
    let n = users.len();
    let ts = TimestampMicrosecondArray::from(vec![1_711_929_600_000_000; n]).with_timezone("UTC");
    batch(vec![
        ("ts", Arc::new(ts)),
        ("user_id", Arc::new(Int64Array::from(users.to_vec()))),
        ("merchant_id", Arc::new(StringArray::from(vec!["m1"; n]))),
        ("amount", Arc::new(Float64Array::from(vec![10.5; n]))),
        ("category", Arc::new(StringArray::from(vec!["dining"; n]))),
        ("is_mobile", Arc::new(BooleanArray::from(vec![true; n]))),
    ])
}

#[test]
fn an_arrow_read_answers_what_a_json_read_answers() {
    let mut config = Served::config();
    config.clock = featc_server::Clock::Events;
    let served = Served::start(Path::new("examples/fraud"), config, true);
    let a = &served;
    let users: Vec<i64> = (1..=40).chain([999_999]).collect();
    let merchants: Vec<String> = (0..users.len()).map(|i| format!("m{}", i % 7)).collect();
    let at = "2024-03-31T00:00:00Z";
    let (status, json) = post(
        a,
        "/get-online-features",
        &json!({"feature_service": "fraud_v1", "entities": {"user_id": users, "merchant_id": merchants}, "at": at}),
    );
    assert_eq!(status, 200, "{json}");
    // Narrower integers and a large string type are read as the keys' types.
    let rows = batch(vec![
        (
            "merchant_id",
            Arc::new(datafusion::arrow::array::LargeStringArray::from(
                merchants.clone(),
            )),
        ),
        (
            "user_id",
            Arc::new(datafusion::arrow::array::Int32Array::from(
                users.iter().map(|&u| u as i32).collect::<Vec<_>>(),
            )),
        ),
        (
            "unused",
            Arc::new(BooleanArray::from(vec![true; users.len()])),
        ),
    ]);
    let path = format!(
        "/get-online-features?feature_service=fraud_v1&at={}",
        at.replace(':', "%3A")
    );
    let (status, table) = arrow(a, &path, &arrow_body(&rows));
    let table = table.unwrap_or_else(|e| panic!("{status}: {e}"));
    assert_eq!(
        table
            .schema()
            .metadata()
            .get("featc.at")
            .map(String::as_str),
        Some(at)
    );
    // Key columns in the rows' order and typed as the keys, then the features, then
    // their statuses.
    let names: Vec<String> = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let features: Vec<&str> = json["metadata"]["feature_names"].as_array().expect("names")[2..]
        .iter()
        .map(|n| n.as_str().expect("a name"))
        .collect();
    assert_eq!(&names[..2], ["merchant_id", "user_id"]);
    assert_eq!(table.column(1).data_type(), &DataType::Int64);
    assert_eq!(names.len(), 2 + 2 * features.len());
    for (i, short) in features.iter().enumerate() {
        let result = &json["results"][i + 2];
        // The Arrow answer names features project-wide (a training set's columns).
        let column = table.column(2 + i);
        let name = &names[2 + i];
        assert!(name.ends_with(short), "{name} / {short}");
        assert_eq!(names[2 + features.len() + i], format!("{name}__status"));
        let statuses = table.column(2 + features.len() + i).as_string::<i32>();
        for row in 0..users.len() {
            assert_eq!(
                expected_cell(column, row),
                served_cell(&result["values"][row], column.data_type()),
                "{name} row {row}"
            );
            assert_eq!(
                statuses.value(row),
                result["statuses"][row],
                "{name} row {row}"
            );
        }
    }
    // statuses=false drops them; features by any spelling, comma-separated; times
    // as integer microseconds.
    let (_, small) = arrow(
        a,
        "/get-online-features?features=user_spend%3Atxn_count_1h,amount_sum_1d&statuses=false&at=1711843200000000",
        &arrow_body(&rows),
    );
    let small = small.expect("a table");
    let small_names: Vec<&str> = small
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(small_names, ["user_id", "txn_count_1h", "amount_sum_1d"]);
    assert_eq!(
        small
            .schema()
            .metadata()
            .get("featc.at")
            .map(String::as_str),
        Some("2024-03-31T00:00:00Z")
    );
}

#[test]
fn arrow_pushes_are_checked_like_json_pushes_and_refusals_name_the_field() {
    let mut config = Served::config();
    config.clock = featc_server::Clock::Events;
    let served = Served::start(Path::new("examples/fraud"), config, false);
    let a = &served;
    let push = "/push?push_source_name=transactions";
    let (status, raw) = request(
        a,
        "POST",
        push,
        &[ARROW, ("Idempotency-Key", "k1")],
        &arrow_body(&transactions(&[Some(7), Some(7)])),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&raw));
    let answer: Json = serde_json::from_slice(&raw).expect("json");
    assert_eq!(
        answer,
        json!({"accepted": 2, "late": 0, "duplicate": false})
    );
    let (_, raw) = request(
        a,
        "POST",
        push,
        &[ARROW, ("Idempotency-Key", "k1")],
        &arrow_body(&transactions(&[Some(7)])),
    );
    assert_eq!(
        serde_json::from_slice::<Json>(&raw).expect("json")["duplicate"],
        true
    );

    // A null key names the column and row; nothing of the push is applied.
    let m = refused(
        arrow(a, push, &arrow_body(&transactions(&[Some(7), None]))),
        422,
        "bad_value",
        "df.user_id[1]",
    );
    assert!(m.contains("null"), "{m}");
    let good = transactions(&[Some(7)]);
    let renamed: Vec<(&str, ArrayRef)> = good
        .schema_ref()
        .fields()
        .iter()
        .zip(good.columns())
        .map(|(f, c)| {
            (
                if f.name() == "amount" {
                    "amout"
                } else {
                    f.name().as_str()
                },
                Arc::clone(c),
            )
        })
        .collect();
    let typo = batch(renamed);
    let m = refused(
        arrow(a, push, &arrow_body(&typo)),
        400,
        "unknown_column",
        "df.amout",
    );
    assert!(m.contains("did you mean `amount`"), "{m}");
    let no_user = transactions(&[Some(7)])
        .project(&[0, 2, 3, 4, 5])
        .expect("project");
    refused(
        arrow(a, push, &arrow_body(&no_user)),
        400,
        "missing_column",
        "df.user_id",
    );
    let wrong = batch(vec![
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(vec![0]).with_timezone("UTC")),
        ),
        ("user_id", Arc::new(StringArray::from(vec!["7"]))),
    ]);
    let m = refused(
        arrow(a, push, &arrow_body(&wrong)),
        400,
        "bad_field",
        "df.user_id",
    );
    assert!(m.contains("expected int64"), "{m}");
    refused(
        arrow(
            a,
            "/push?push_source_name=transaction",
            &arrow_body(&transactions(&[Some(1)])),
        ),
        404,
        "unknown_source",
        "push_source_name",
    );
    refused(
        arrow(a, "/push", &arrow_body(&transactions(&[Some(1)]))),
        400,
        "missing_field",
        "push_source_name",
    );
    refused(
        arrow(
            a,
            "/push?push_source_name=transactions&to=offline",
            &arrow_body(&transactions(&[Some(1)])),
        ),
        400,
        "bad_field",
        "to",
    );
    let m = refused(arrow(a, push, b"not arrow"), 400, "bad_field", "body");
    assert!(m.contains("Arrow IPC"), "{m}");

    // Reads.
    let rows = arrow_body(&batch(vec![(
        "user_id",
        Arc::new(Int64Array::from(vec![7])),
    )]));
    let read = |q: &str| arrow(a, &format!("/get-online-features?{q}"), &rows);
    let m = refused(
        read("features=txn_count_1&at=1970-01-01T00%3A00%3A00Z"),
        404,
        "unknown_feature",
        "features[0]",
    );
    assert!(m.contains("did you mean `txn_count_1h`"), "{m}");
    refused(
        read("features=txn_count_1h,nope"),
        404,
        "unknown_feature",
        "features[1]",
    );
    refused(
        read("feature_service=fraud_v2"),
        404,
        "unknown_service",
        "feature_service",
    );
    refused(
        read("feature_service=fraud_v1&features=txn_count_1h"),
        400,
        "bad_field",
        "feature_service",
    );
    let m = refused(
        read("feature=txn_count_1h"),
        400,
        "unknown_field",
        "feature",
    );
    assert!(m.contains("did you mean `features`"), "{m}");
    refused(
        read("features=txn_count_1h&features=txn_count_7d"),
        400,
        "bad_field",
        "features",
    );
    refused(
        read("features=txn_count_1h&at=yesterday"),
        400,
        "bad_field",
        "at",
    );
    refused(
        read("features=txn_count_1h&statuses=no"),
        400,
        "bad_field",
        "statuses",
    );
    // The service needs `merchant_id` too.
    refused(
        read("feature_service=fraud_v1"),
        400,
        "missing_field",
        "entities.merchant_id",
    );
    let strings = arrow_body(&batch(vec![(
        "user_id",
        Arc::new(StringArray::from(vec!["7"])),
    )]));
    refused(
        arrow(a, "/get-online-features?features=txn_count_1h", &strings),
        400,
        "bad_field",
        "entities.user_id",
    );
    let (status, ok) = read("features=txn_count_1h&at=2024-04-01T00%3A30%3A00Z");
    let ok = ok.unwrap_or_else(|e| panic!("{status}: {e}"));
    // Two accepted rows at 2024-04-01T00:00:00Z: the duplicate and the refused pushes
    // applied nothing.
    let counts = ok
        .column(1)
        .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    assert_eq!(counts.value(0), 2);
    assert_eq!(ok.column(0).data_type(), &DataType::Int64);
    assert!(!ok.column(1).is_null(0));
}
