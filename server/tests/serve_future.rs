//! A far-future event cannot move a watermark (docs/serving.md, "--max-future"): a
//! push with an event time more than the bound ahead of the wall clock is refused
//! whole with `422 future_event` naming the row, counted by source, and nothing of it
//! is applied, so reads at real times and later events go on as before it.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc_server::wire::time::{format_time, now_us};
use serde_json::{json, Value as Json};

use crate::support::*;

const MINUTE: i64 = 60_000_000;
const FUTURE: &str = "featc_future_events_total{source=\"clicks\"}";

/// `clicks`, one lifetime count per user, served under `--clock events --late
/// dead-letter` (so a moved watermark would show as 409s and dropped events).
fn served(name: &str, max_future_us: Option<i64>) -> (std::path::PathBuf, Served) {
    let work = project_dir(
        &format!("future-{name}"),
        "source clicks {\n    time ts\n    columns { user_id: int64 }\n}\n\
         entity user { key user_id: int64 }\n\
         view c from clicks by user {\n    feature clicks_all = count(*)\n}\n",
    );
    let mut config = Served::config();
    config.clock = featc_server::Clock::Events;
    config.late_policy = featc_runtime::stream::LatePolicy::DeadLetter;
    if let Some(bound) = max_future_us {
        config.max_future_us = bound;
    }
    let served = Served::start(&work, config, false);
    (work, served)
}

fn push(served: &Served, df: Json) -> (u16, Json) {
    post(
        served,
        "/push",
        &json!({"push_source_name": "clicks", "df": df}),
    )
}

/// `clicks_all` of user 1 at `at` (`null`: the events clock's now).
fn count(served: &Served, at: Json) -> (u16, Json) {
    let (status, answer) = post(
        served,
        "/get-online-features",
        &json!({"features": ["clicks_all"], "entities": {"user_id": [1]}, "at": at}),
    );
    (status, answer["results"][1]["values"][0].clone())
}

fn arrow_push(served: &Served, ts: i64) -> (u16, Json) {
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("user_id", DataType::Int64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampMicrosecondArray::from(vec![ts])),
        Arc::new(Int64Array::from(vec![1])),
    ];
    let batch = RecordBatch::try_new(schema, columns).expect("batch");
    let body = arrow_body(&batch);
    let (status, raw) = request(
        served,
        "POST",
        "/push?push_source_name=clicks",
        &[("Content-Type", "application/vnd.apache.arrow.stream")],
        &body,
    );
    (status, serde_json::from_slice(&raw).unwrap_or(Json::Null))
}

#[test]
fn a_far_future_push_is_refused_and_moves_no_watermark() {
    let (work, served) = served("end", None);
    let now = now_us();
    let (status, answer) = push(&served, json!({"ts": [now - 2 * MINUTE], "user_id": [1]}));
    assert_eq!(status, 200, "{answer}");

    // JSON: one real event and one at the end of time; refused whole, naming the row.
    let (status, answer) = push(
        &served,
        json!({"ts": [now - MINUTE, "9999-12-31T23:59:59Z"], "user_id": [1, 1]}),
    );
    assert_eq!(status, 422, "{answer}");
    let e = refusal(&answer);
    assert_eq!(e["code"], "future_event", "{answer}");
    assert_eq!(e["field"], "df.ts[1]", "{answer}");
    let message = e["message"].as_str().unwrap_or("");
    for said in [
        "9999-12-31T23:59:59Z",
        "1h",
        "--max-future",
        "nothing of it",
    ] {
        assert!(message.contains(said), "{said}: {message}");
    }
    // Arrow: the same refusal.
    let (status, answer) = arrow_push(&served, 253_402_300_799_000_000);
    assert_eq!(status, 422, "{answer}");
    assert_eq!(refusal(&answer)["code"], "future_event", "{answer}");
    assert_eq!(refusal(&answer)["field"], "df.ts[0]", "{answer}");
    assert_eq!(metric(&served, FUTURE), 2.0);

    // Nothing was applied: the events clock is still the first event's, a read at a
    // real time is answered, and a later event is neither late nor dropped.
    assert_eq!(count(&served, Json::Null), (200, json!(1)));
    assert_eq!(count(&served, json!(format_time(now))), (200, json!(1)));
    let (status, answer) = push(&served, json!({"ts": [now - MINUTE], "user_id": [1]}));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(metric(&served, "featc_late_events_total"), 0.0);
    assert_eq!(metric(&served, "featc_dead_lettered_total"), 0.0);
    assert_eq!(count(&served, json!(format_time(now))), (200, json!(2)));
    served.stop();
    let _ = std::fs::remove_dir_all(&work);
}

/// The bound is the flag's: an event inside it is taken, one past it refused (the
/// exact microsecond is `state::check`'s unit test, on a clock it sets).
#[test]
fn the_bound_is_max_future_ahead_of_the_wall_clock() {
    let bound = 10 * MINUTE;
    let (work, served) = served("edge", Some(bound));
    let now = now_us();
    let (status, answer) = push(
        &served,
        json!({"ts": [now + bound - MINUTE], "user_id": [1]}),
    );
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = push(
        &served,
        json!({"ts": [now + bound + MINUTE], "user_id": [1]}),
    );
    assert_eq!(status, 422, "{answer}");
    let message = refusal(&answer)["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(message.contains("10m"), "{message}");
    assert_eq!(metric(&served, FUTURE), 1.0);
    assert_eq!(count(&served, Json::Null), (200, json!(1)));
    served.stop();
    let _ = std::fs::remove_dir_all(&work);
}
