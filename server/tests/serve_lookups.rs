//! An as-of lookup served (semantics.md, "As-of lookups online: events wait"): a
//! pushed payment waits until the looked-up source's watermark passes its time, is
//! kept across a restart from the durable log, then counts with the looked-up value
//! of its own time.

use serde_json::{json, Value as Json};

use crate::support::*;

const PROJECT: &str =
    "source payments {\n    time ts\n    columns { user_id: int64  merchant_id: int64  amount: float64 }\n}\n\
    source reports {\n    time ts\n    lateness 1h\n    columns { merchant_id: int64  fraud: bool }\n}\n\
    entity user { key user_id: int64 }\n\
    entity merchant { key merchant_id: int64 }\n\
    view merchants from reports by merchant {\n\
    \x20   feature reports_30d = count_if(fraud) over 30d\n\
    }\n\
    view spend from payments by user {\n\
    \x20   let reported = merchants.reports_30d at merchant_id\n\
    \x20   feature reported_spend_7d = sum(amount) where reported > 0 over 7d\n\
    \x20   feature payments_7d = count(*) over 7d\n\
    }\n";

fn read(served: &Served) -> Vec<Json> {
    let (status, answer) = post(
        served,
        "/get-online-features",
        &json!({"features": ["reported_spend_7d", "payments_7d"],
                "entities": {"user_id": [1]}, "at": "2024-01-03T00:00:00Z"}),
    );
    assert_eq!(status, 200, "{answer}");
    (1..=2)
        .map(|i| answer["results"][i]["values"][0].clone())
        .collect()
}

fn push(served: &Served, source: &str, df: Json) {
    let (status, answer) = post(
        served,
        "/push",
        &json!({"push_source_name": source, "df": df}),
    );
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn a_payment_waits_for_the_reports_watermark_and_survives_a_restart() {
    let work = project_dir("lookups", PROJECT);
    let mut config = Served::config();
    config.state = Some(work.join("state"));
    let served = Served::start(&work, config.clone(), false);
    push(
        &served,
        "reports",
        json!({"ts": ["2024-01-01T12:00:00Z"], "merchant_id": [7], "fraud": [true]}),
    );
    // One payment before the report, one after it.
    push(
        &served,
        "payments",
        json!({"ts": ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"],
               "user_id": [1, 1], "merchant_id": [7, 7], "amount": [20.0, 10.0]}),
    );
    // The reports' watermark (12:00 - 1h) is past the first payment, which counts
    // (no report before it); the second one waits.
    assert_eq!(read(&served), vec![json!(0.0), json!(1)]);
    served.stop();
    let served = Served::start(&work, config.clone(), false);
    assert_eq!(read(&served), vec![json!(0.0), json!(1)]);
    // A report two hours past the second payment settles it: it saw the report.
    push(
        &served,
        "reports",
        json!({"ts": ["2024-01-02T02:00:00Z"], "merchant_id": [8], "fraud": [false]}),
    );
    let expected = vec![json!(10.0), json!(2)];
    assert_eq!(read(&served), expected);
    served.stop();
    let served = Served::start(&work, config, false);
    assert_eq!(read(&served), expected);
    served.stop();
}

/// `--max-held-rows`: a push that would hold more events than the limit is refused
/// whole with a 429 the producer retries once the looked-up source moved; the held
/// count and the refusals are on `/metrics`.
#[test]
fn a_push_past_the_held_limit_is_refused_until_the_looked_up_source_moves() {
    let work = project_dir("lookups_held_limit", PROJECT);
    let mut config = Served::config();
    config.max_held_rows = 1;
    let served = Served::start(&work, config, false);
    push(
        &served,
        "reports",
        json!({"ts": ["2024-01-01T12:00:00Z"], "merchant_id": [7], "fraud": [true]}),
    );
    // Past the reports' watermark (11:00): held, the one row the limit allows.
    push(
        &served,
        "payments",
        json!({"ts": ["2024-01-02T00:00:00Z"], "user_id": [1], "merchant_id": [7], "amount": [10.0]}),
    );
    assert_eq!(metric(&served, "featc_held_rows"), 1.0);
    let second = json!({"push_source_name": "payments",
        "df": {"ts": ["2024-01-02T01:00:00Z"], "user_id": [1], "merchant_id": [7], "amount": [5.0]}});
    let (status, answer) = post(&served, "/push", &second);
    assert_eq!(status, 429, "{answer}");
    let detail: Json = serde_json::from_str(answer.as_str().expect("Feast's error detail"))
        .expect("a JSON object");
    assert_eq!(detail["code"], "held_rows_full", "{detail}");
    assert!(
        detail["message"]
            .as_str()
            .unwrap_or("")
            .contains("--max-held-rows"),
        "{detail}"
    );
    assert_eq!(
        metric(&served, "featc_overloaded_total{cause=\"held_rows\"}"),
        1.0
    );
    // Nothing of the refused push was applied.
    assert_eq!(read(&served), vec![json!(0.0), json!(0)]);
    // The reports move past both payments (watermark 02:00): the held one is
    // released, and the retried push is applied at once.
    push(
        &served,
        "reports",
        json!({"ts": ["2024-01-02T03:00:00Z"], "merchant_id": [8], "fraud": [false]}),
    );
    assert_eq!(metric(&served, "featc_held_rows"), 0.0);
    let (status, answer) = post(&served, "/push", &second);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(read(&served), vec![json!(15.0), json!(2)]);
    served.stop();
}
