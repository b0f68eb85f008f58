//! Embedding featc's streaming runtime in a Rust program: get a `StreamGraph`, build a
//! `StreamRuntime`, ingest Arrow batches of events, read feature vectors at a time t.
//! `run` is the whole flow; `main.rs` prints its result and `tests/` checks it.

pub mod events;
pub mod graph;
pub mod scenario;

use std::error::Error;

use featc_runtime::stream::{
    FeatureVector, Keys, Metrics, Read, Selection, StreamGraph, StreamRuntime,
};
use featc_runtime::value::Value;

use events::HOUR;
use scenario::NOW;

/// The `user` features `run` reads one by one (views `user_spend` and `user_logins`).
pub const USER_FEATURES: &[&str] = &[
    "txn_count_1h",
    "amount_sum_1d",
    "big_count_1d",
    "nonfood_max_7d",
    "failed_logins_1d",
    "last_country",
];

/// What `run` read.
#[derive(Debug)]
pub struct Reads {
    /// Service `fraud_v1` for user 7 and its pair (user 7, merchant `m_travel`) at `NOW`.
    pub service: FeatureVector,
    /// `USER_FEATURES` for user 7 at `NOW` and two hours later.
    pub user_now: FeatureVector,
    pub user_later: FeatureVector,
    /// A user that never had an event.
    pub stranger: FeatureVector,
    pub metrics: Metrics,
}

/// Runs the example's events through a runtime built from `graph` (the fraud project's)
/// and reads features back.
pub fn ingest_and_read(graph: StreamGraph) -> Result<Reads, Box<dyn Error>> {
    // Default options: late events (older than the source's watermark, i.e. its newest
    // event time minus its declared `lateness`) are applied and counted.
    let mut rt = StreamRuntime::new(graph)?;

    // Each source gets its own batches; a batch is taken whole or not at all.
    for batch in scenario::payments() {
        rt.ingest("transactions", &events::transactions(&batch)?)?;
    }
    rt.ingest("logins", &events::logins(&scenario::login_events())?)?;

    // A service may mix entities: give the key of each entity it reads.
    let user = [Value::Int64(7)];
    let pair = [Value::Int64(7), Value::String("m_travel".into())];
    let keys = [("user", &user[..]), ("user_merchant", &pair[..])];
    let service = rt.read(&Read::new(
        Keys::ByEntity(&keys),
        Selection::Service("fraud_v1"),
        NOW,
    ))?;

    // Reads of one entity: features by name, in the order given.
    let names = Selection::Features(USER_FEATURES);
    let user_now = rt.read(&Read::new(Keys::Entity(&user), names, NOW))?;
    // No new events: windowed values decay when read later (never "latest computed").
    let user_later = rt.read(&Read::new(Keys::Entity(&user), names, NOW + 2 * HOUR))?;
    let stranger = rt.read(&Read::new(Keys::Entity(&[Value::Int64(999)]), names, NOW))?;

    Ok(Reads {
        service,
        user_now,
        user_later,
        stranger,
        metrics: rt.metrics(),
    })
}

/// A value as text, for printing.
pub fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Int64(x) => x.to_string(),
        Value::Float64(x) => x.to_string(),
        Value::Bool(x) => x.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Timestamp(us) => format!("{us}us"),
        Value::Date(d) => featc_runtime::row::date::format_date(*d),
        Value::Decimal {
            unscaled, scale, ..
        } => featc_runtime::row::decimal::format_decimal(unscaled.get(), *scale),
        Value::List(l) => featc_runtime::row::list::json_text(l),
    }
}
