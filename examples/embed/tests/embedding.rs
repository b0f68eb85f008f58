//! Runs the embedding example and checks what it read against expectations derived
//! from the example's own events (so editing the scenario keeps the test meaningful).

// A test binary: its helpers may unwrap, expect and panic!, which the workspace's lints
// deny in library code (clippy.toml already lets the tests themselves).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use featc_embed_example::events::{DAY, HOUR};
use featc_embed_example::scenario::{payments, NOW};
use featc_embed_example::{graph, ingest_and_read, Reads};
use featc_runtime::stream::{FeatureValue, FeatureVector, Status, StreamGraph};
use featc_runtime::value::Value;

fn feature<'a>(v: &'a FeatureVector, name: &str) -> &'a FeatureValue {
    v.get(name)
        .unwrap_or_else(|| panic!("no feature {name} in {v:?}"))
}

fn reads() -> Reads {
    let graph = graph::compile_dir(&graph::fraud_dir()).expect("compile examples/fraud");
    ingest_and_read(graph).expect("ingest and read")
}

/// Payments of user 7 in `(t - w, t]` that pass the view filter (`amount` null or >= 0).
fn spend(t: i64, w: i64) -> Vec<Option<f64>> {
    payments()
        .into_iter()
        .flatten()
        .filter(|p| {
            p.user_id == 7 && p.ts > t - w && p.ts <= t && p.amount.is_none_or(|a| a >= 0.0)
        })
        .map(|p| p.amount)
        .collect()
}

#[test]
fn windowed_values_follow_the_events() {
    let r = reads();
    let in_hour = spend(NOW, HOUR).len() as i64;
    assert!(
        in_hour > 1,
        "the scenario should put several payments in the last hour"
    );
    let count = feature(&r.user_now, "txn_count_1h");
    assert_eq!(
        (&count.value, &count.status),
        (&Value::Int64(in_hour), &Status::Present)
    );

    let day = spend(NOW, DAY);
    let sum: f64 = day.iter().flatten().sum();
    assert_eq!(
        feature(&r.user_now, "amount_sum_1d").value,
        Value::Float64(sum)
    );
    let big = day.iter().flatten().filter(|a| **a > 100.0).count() as i64;
    assert_eq!(
        feature(&r.user_now, "big_count_1d").value,
        Value::Int64(big)
    );
}

#[test]
fn windows_decay_without_new_events() {
    let r = reads();
    let later = NOW + 2 * HOUR;
    assert!(spend(later, HOUR).is_empty());
    assert_eq!(
        feature(&r.user_later, "txn_count_1h").value,
        Value::Int64(0)
    );
    let sum: f64 = spend(later, DAY).iter().flatten().sum();
    assert_eq!(
        feature(&r.user_later, "amount_sum_1d").value,
        Value::Float64(sum)
    );
}

#[test]
fn a_view_past_its_ttl_is_stale() {
    let r = reads();
    for name in ["failed_logins_1d", "last_country"] {
        let f = feature(&r.user_now, name);
        assert_eq!(
            (&f.value, &f.status),
            (&Value::Null, &Status::Stale),
            "{name}"
        );
    }
}

#[test]
fn an_unknown_entity_gets_empty_values() {
    let r = reads();
    let f = feature(&r.stranger, "txn_count_1h");
    assert_eq!(
        (&f.value, &f.status),
        (&Value::Int64(0), &Status::UnknownEntity)
    );
}

#[test]
fn a_service_reads_two_entities() {
    let r = reads();
    let pair: Vec<_> = payments()
        .into_iter()
        .flatten()
        .filter(|p| p.user_id == 7 && p.merchant_id == "m_travel" && p.ts <= NOW)
        .collect();
    let in_30d = pair.iter().filter(|p| p.ts > NOW - 30 * DAY).count() as i64;
    assert_eq!(
        feature(&r.service, "pair_count_30d").value,
        Value::Int64(in_30d)
    );
    let max = pair
        .iter()
        .filter_map(|p| p.amount)
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(
        feature(&r.service, "pair_amount_max").value,
        Value::Float64(max)
    );
    assert_eq!(
        feature(&r.service, "txn_count_1h").value,
        Value::Int64(spend(NOW, HOUR).len() as i64)
    );
    let events: usize = payments().iter().map(Vec::len).sum::<usize>()
        + featc_embed_example::scenario::login_events().len();
    assert_eq!((r.metrics.events, r.metrics.late), (events as u64, 0));
}

#[test]
fn a_graph_loaded_from_json_reads_the_same() {
    let compiled = graph::compile_dir(&graph::fraud_dir()).expect("compile");
    let loaded = StreamGraph::from_json(&compiled.to_json()).expect("load");
    let (a, b) = (
        ingest_and_read(compiled).expect("ingest and read"),
        ingest_and_read(loaded).expect("ingest and read"),
    );
    assert_eq!((a.service, a.user_now), (b.service, b.user_now));
}
