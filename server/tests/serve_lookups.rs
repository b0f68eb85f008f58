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
