//! Integer times on the wire (docs/semantics.md, "Time"): a source's `epoch` unit
//! reads its integers, in JSON and Arrow pushes alike; without one, an integer is
//! taken only as 16-digit microseconds, and epoch seconds are refused with the clause
//! that would read them, never applied as a 1970 event. A read's integer `at` follows
//! the same rule.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{json, Value as Json};

use crate::support::*;

/// 2024-03-30T23:55:00Z in seconds, and in microseconds.
const SECONDS: i64 = 1_711_842_900;
const MICROS: i64 = SECONDS * 1_000_000;

/// `clicks` declares no unit, `taps` counts seconds; one lifetime count over each.
fn served(name: &str) -> (std::path::PathBuf, Served) {
    let work = project_dir(
        &format!("times-{name}"),
        "source clicks {\n    time ts\n    columns { user_id: int64 }\n}\n\
         source taps {\n    time ts\n    columns { user_id: int64  seen: timestamp? }\n    epoch s\n}\n\
         entity user { key user_id: int64 }\n\
         view c from clicks by user {\n    feature clicks_all = count(*)\n}\n\
         view t from taps by user {\n    feature taps_all = count(*)\n    feature last_seen = max(seen)\n}\n",
    );
    let mut config = Served::config();
    config.clock = featc_server::Clock::Events;
    let served = Served::start(&work, config, false);
    (work, served)
}

fn push(served: &Served, source: &str, df: Json) -> (u16, Json) {
    post(
        served,
        "/push",
        &json!({"push_source_name": source, "df": df}),
    )
}

fn read(served: &Served, at: Json) -> (u16, Json) {
    post(
        served,
        "/get-online-features",
        &json!({"features": ["clicks_all", "taps_all", "last_seen"], "entities": {"user_id": [1]}, "at": at}),
    )
}

#[test]
fn epoch_seconds_are_refused_without_a_unit_and_read_with_one() {
    let (work, served) = served("json");
    // Epoch seconds on a source without a unit: refused, naming the value and the fix.
    let (status, answer) = push(&served, "clicks", json!({"ts": [SECONDS], "user_id": [1]}));
    assert_eq!(status, 422, "{answer}");
    let error = refusal(&answer);
    assert_eq!(error["code"], "bad_value", "{answer}");
    let field = error["field"].as_str().unwrap_or("");
    assert!(field.starts_with("df.ts"), "{answer}");
    let message = error["message"].as_str().expect("message");
    assert!(message.contains("1711842900"), "{message}");
    assert!(message.contains("`epoch s`"), "{message}");
    for implausible in [0, SECONDS * 1000, MICROS * 1000, -MICROS] {
        let (status, answer) = push(
            &served,
            "clicks",
            json!({"ts": [implausible], "user_id": [1]}),
        );
        assert_eq!(status, 422, "{implausible}: {answer}");
    }
    // 16-digit microseconds are read as they always were.
    let (status, answer) = push(&served, "clicks", json!({"ts": [MICROS], "user_id": [1]}));
    assert_eq!(status, 200, "{answer}");

    // `epoch s`: the same instant as integer seconds, as text, and in a timestamp column.
    let (status, answer) = push(
        &served,
        "taps",
        json!({"ts": [SECONDS, "2024-03-30T23:55:00Z"], "user_id": [1, 1], "seen": [SECONDS - 60, null]}),
    );
    assert_eq!(status, 200, "{answer}");
    // ... and an Arrow push of an integer column.
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", DataType::Int64, false),
        Field::new("user_id", DataType::Int64, false),
        Field::new("seen", DataType::Int64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![SECONDS])),
        Arc::new(Int64Array::from(vec![1])),
        Arc::new(Int64Array::from(vec![Some(SECONDS - 120)])),
    ];
    let batch = RecordBatch::try_new(schema, columns).expect("batch");
    let body = arrow_body(&batch);
    let arrow = ("Content-Type", "application/vnd.apache.arrow.stream");
    let (status, raw) = request(
        &served,
        "POST",
        "/push?push_source_name=taps",
        &[arrow],
        &body,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&raw));
    // An Arrow integer column of a source without a unit: the same refusal.
    let (status, raw) = request(
        &served,
        "POST",
        "/push?push_source_name=clicks",
        &[arrow],
        &arrow_body(&batch.project(&[0, 1]).expect("ts and user_id")),
    );
    let raw = String::from_utf8_lossy(&raw);
    assert!(status == 400 || status == 422, "{status} {raw}");
    assert!(raw.contains("`epoch s`"), "{raw}");

    let (status, answer) = read(&served, json!("2024-03-31T00:00:00Z"));
    assert_eq!(status, 200, "{answer}");
    let values = &answer["results"];
    assert_eq!(values[1]["values"][0], 1, "{answer}");
    assert_eq!(values[2]["values"][0], 3, "{answer}");
    assert_eq!(values[3]["values"][0], "2024-03-30T23:54:00Z", "{answer}");
    // The same read at integer microseconds; an implausible integer `at` is refused.
    let (status, same) = read(&served, json!(MICROS + 300_000_000));
    assert_eq!((status, &same), (200, &answer));
    let (status, answer) = read(&served, json!(SECONDS));
    assert_eq!(status, 400, "{answer}");
    assert_eq!(refusal(&answer)["field"], "at", "{answer}");
    served.stop();
    let _ = std::fs::remove_dir_all(&work);
}

/// An event ahead of the wall clock makes the freshness lag 0, never negative.
#[test]
fn the_freshness_lag_of_an_event_ahead_of_the_clock_is_zero() {
    let work = project_dir(
        "times-ahead",
        "source clicks {\n    time ts\n    columns { user_id: int64 }\n}\n\
         entity user { key user_id: int64 }\n\
         view recent from clicks by user {\n    feature clicks_1h = count(*) over 1h\n}\n",
    );
    let served = Served::start(&work, Served::config(), false);
    let lag = "featc_source_freshness_lag_seconds{source=\"clicks\"}";
    // Half an hour ahead: inside the default `--max-future` (an hour), which refuses
    // an event further ahead (serve_future).
    let ahead = featc_server::wire::time::now_us() + 1_800_000_000;
    let (status, answer) = push(&served, "clicks", json!({"ts": [ahead], "user_id": [1]}));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(metric(&served, lag), 0.0);
    served.stop();
    let _ = std::fs::remove_dir_all(&work);
}
