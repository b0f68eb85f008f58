//! Expiry (semantics.md, "Online values"): an entity past its retention (its latest
//! event plus the longest window, offset or ttl of its group) reads as one never seen,
//! exactly at the boundary, and is forgotten from memory and from the disk tier once
//! the horizon passes it; a group with a lifetime feature keeps every entity.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::stream::{MemoryStore, Status, StreamGraph, StreamRuntime, Tier};
use featc_runtime::value::Value;

use crate::stream_support::{features_at, graph_of, time_field, times};

const S: i64 = 1_000_000;

/// `clicks`' group: retention max(1m, 2m + 30s, ttl 2m) = 150 s. `orders`' and
/// `visits`' groups have a lifetime feature (`visits`' with a ttl): no retention.
const PROJECT: &str = "
source clicks {
    time ts
    columns {
        user:   int64?
        amount: float64?
    }
}
source orders {
    time ts
    columns {
        user:   int64?
        amount: float64?
    }
}
source visits {
    time ts
    columns {
        user:   int64?
        amount: float64?
    }
}
entity user { key user: int64 }
view activity from clicks by user {
    feature n_1m       = count(*) over 1m
    feature sum_late   = sum(amount) over 2m offset 30s
    feature last_1m    = last(amount) over 1m
}
view fresh from clicks by user {
    feature max_10s = max(amount) over 10s
    ttl 2m
}
view totals from orders by user {
    feature n_orders = count(*)
}
view seen from visits by user {
    feature last_visit = last(amount)
    ttl 90s
}
";

fn graph() -> StreamGraph {
    graph_of("expiry.feat", PROJECT)
}

fn runtime(tier: Option<Tier>) -> StreamRuntime {
    StreamRuntime::with_tier(graph(), Default::default(), tier).expect("runtime")
}

/// Rows of (ts, user, amount).
fn batch(rows: &[(i64, i64, f64)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        time_field("ts"),
        Field::new("user", DataType::Int64, true),
        Field::new("amount", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        times(rows.iter().map(|r| r.0)),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema, columns).expect("batch")
}

/// Every feature of `user` at `t`: (name, value, status, event time).
fn read(rt: &StreamRuntime, user: i64, t: i64) -> Vec<(String, Value, Status, Option<i64>)> {
    features_at(rt, user, t)
        .into_iter()
        .map(|f| (f.name.to_string(), f.value, f.status, f.event_time))
        .collect()
}

/// The features of one source's views in `read`'s output.
fn of(
    features: &[(String, Value, Status, Option<i64>)],
    names: &[&str],
) -> Vec<(String, Value, Status, Option<i64>)> {
    features
        .iter()
        .filter(|f| names.contains(&f.0.as_str()))
        .cloned()
        .collect()
}

const CLICKS: &[&str] = &["n_1m", "sum_late", "last_1m", "max_10s"];

fn users(rt: &StreamRuntime) -> Vec<i64> {
    let mut keys: Vec<i64> = rt
        .entity_keys("user")
        .expect("keys")
        .into_iter()
        .map(|k| match k[..] {
            [Value::Int64(u)] => u,
            _ => panic!("key {k:?}"),
        })
        .collect();
    keys.sort_unstable();
    keys
}

fn expiry_at_the_boundary_then_forgotten(tier: Option<(Arc<MemoryStore>, Tier)>) {
    let store = tier.as_ref().map(|(s, _)| Arc::clone(s));
    let mut rt = runtime(tier.map(|(_, t)| t));
    rt.ingest("clicks", &batch(&[(0, 1, 2.0), (10 * S, 1, 3.0)]))
        .expect("ingest");
    // Latest event 10 s, retention 150 s: known until 160 s, unknown from it.
    let before = of(&read(&rt, 1, 160 * S - 1), CLICKS);
    assert!(
        before.iter().all(|f| f.2 != Status::UnknownEntity),
        "{before:?}"
    );
    assert_eq!(
        before[1].1,
        Value::Float64(3.0),
        "sum_late still sees the event at 10 s"
    );
    let at = of(&read(&rt, 1, 160 * S), CLICKS);
    let unknown = of(&read(&rt, 99, 160 * S), CLICKS);
    assert_eq!(
        at, unknown,
        "past its retention user 1 reads as a user never seen"
    );
    assert!(at
        .iter()
        .all(|f| f.2 == Status::UnknownEntity && f.3.is_none()));
    assert_eq!(
        rt.metrics().expired_entities,
        0,
        "the horizon has not passed 160 s"
    );
    assert_eq!(users(&rt), vec![1]);

    // An event at 200 s moves the watermark (no lateness) past 160 s; the next push
    // promises it to the state (a push promises the horizon before it applies its
    // rows) and its sweep forgets user 1. The reads do not change.
    rt.ingest("clicks", &batch(&[(200 * S, 2, 1.0)]))
        .expect("ingest");
    assert_eq!(rt.metrics().expired_entities, 0);
    rt.ingest("clicks", &batch(&[(201 * S, 2, 1.0)]))
        .expect("ingest");
    let m = rt.metrics();
    assert_eq!((m.expired_entities, m.entities), (1, 1), "{m:?}");
    assert_eq!(users(&rt), vec![2]);
    assert_eq!(
        of(&read(&rt, 1, 200 * S), CLICKS),
        of(&read(&rt, 99, 200 * S), CLICKS)
    );
    if let Some(store) = &store {
        rt.flush().expect("flush");
        // User 2's record and its expiry index entry: nothing of user 1.
        assert_eq!(store.len(), 2);
    }
    // Seen again, user 1 starts afresh.
    rt.ingest("clicks", &batch(&[(205 * S, 1, 4.0)]))
        .expect("ingest");
    let again = of(&read(&rt, 1, 205 * S), &["n_1m", "sum_late"]);
    assert_eq!(again[0].1, Value::Int64(1));
    assert_eq!(again[1].2, Status::Present);
    assert_eq!(users(&rt), vec![1, 2]);
}

#[test]
fn an_entity_past_its_retention_reads_as_unknown_and_is_forgotten() {
    expiry_at_the_boundary_then_forgotten(None);
}

#[test]
fn a_tiered_entity_past_its_retention_leaves_the_store() {
    for cache_bytes in [0, 1 << 20] {
        let store = Arc::new(MemoryStore::default());
        let tier = Tier {
            store: store.clone(),
            cache_bytes,
        };
        expiry_at_the_boundary_then_forgotten(Some((store, tier)));
    }
}

#[test]
fn every_expired_entity_is_forgotten_and_a_lifetime_feature_keeps_them() {
    for tiered in [false, true] {
        let store = Arc::new(MemoryStore::default());
        let tier = tiered.then(|| Tier {
            store: store.clone(),
            cache_bytes: 64 << 10,
        });
        let mut rt = runtime(tier);
        let rows: Vec<(i64, i64, f64)> = (0..2_000).map(|u| (u * 1_000, u, 1.0)).collect();
        rt.ingest("clicks", &batch(&rows)).expect("ingest");
        rt.ingest("orders", &batch(&rows)).expect("ingest");
        rt.ingest("visits", &batch(&rows)).expect("ingest");
        // Far past every retention: one event per source moves the watermarks.
        let late = [(10_000 * S, 5_000, 1.0)];
        for source in ["clicks", "orders", "visits"] {
            rt.ingest(source, &batch(&late)).expect("ingest");
        }
        rt.compact().unwrap();
        let m = rt.metrics();
        // clicks forgets all 2 000; orders and visits (lifetime features) keep them.
        assert_eq!(m.expired_entities, 2_000, "tiered {tiered}: {m:?}");
        assert_eq!(m.entities, 3 + 2 * 2_000, "tiered {tiered}: {m:?}");
        let v = read(&rt, 7, 10_000 * S);
        let orders = of(&v, &["n_orders"]);
        assert_eq!(
            (orders[0].1.clone(), orders[0].2.clone()),
            (Value::Int64(1), Status::Present)
        );
        assert_eq!(of(&v, &["last_visit"])[0].2, Status::Stale);
        assert_eq!(of(&v, &["n_1m"])[0].2, Status::UnknownEntity);
        if tiered {
            rt.flush().expect("flush");
            // orders' and visits' 2 001 records each (no retention, no index), and
            // clicks' user 5 000: a record and its index entry.
            assert_eq!(store.len(), 2 * 2_001 + 2);
        }
        // The count of forgotten entities survives a snapshot.
        let bytes = rt.snapshot().expect("snapshot");
        let back = if tiered {
            StreamRuntime::restore_with_tier(
                graph(),
                Default::default(),
                Some(Tier {
                    store: store.clone(),
                    cache_bytes: 64 << 10,
                }),
                &bytes,
            )
        } else {
            StreamRuntime::restore(graph(), Default::default(), &bytes)
        }
        .expect("restore");
        assert_eq!(back.metrics().expired_entities, 2_000);
        assert_eq!(back.metrics().entities, 3 + 2 * 2_000);
    }
}

#[test]
fn a_lifetime_feature_with_a_ttl_never_expires() {
    let mut rt = runtime(None);
    rt.ingest("visits", &batch(&[(0, 1, 1.0)])).expect("ingest");
    rt.ingest("visits", &batch(&[(100 * S, 2, 1.0)]))
        .expect("ingest");
    rt.ingest("visits", &batch(&[(200 * S, 1, 2.0)]))
        .expect("ingest");
    rt.compact().unwrap();
    // Past its ttl user 2 is stale, never unknown: its next event's value would
    // need the ones before.
    let stale = of(&read(&rt, 2, 200 * S), &["last_visit"]).remove(0);
    assert_eq!((stale.1, stale.2), (Value::Null, Status::Stale));
    let fresh = of(&read(&rt, 1, 200 * S), &["last_visit"]).remove(0);
    assert_eq!((fresh.1, fresh.2), (Value::Float64(2.0), Status::Present));
    assert_eq!(rt.metrics().expired_entities, 0);
    assert_eq!(users(&rt), vec![1, 2]);
}

#[test]
fn a_later_event_does_not_keep_an_entity_seen_before_it() {
    // Lateness 1 000 s keeps a read at 400 s open after the event at 500 s.
    let options = featc_runtime::stream::Options {
        min_lateness_us: 1_000 * S,
        ..Default::default()
    };
    let mut rt = StreamRuntime::with_tier(graph(), options.clone(), None).expect("runtime");
    rt.ingest("clicks", &batch(&[(0, 1, 2.0), (500 * S, 1, 3.0)]))
        .expect("ingest");
    // At 400 s the latest event at or before it is at 0 s, 150 s retention: user 1
    // reads as never seen, although its event at 500 s keeps its state alive.
    let past = of(&read(&rt, 1, 400 * S), CLICKS);
    assert_eq!(past, of(&read(&rt, 99, 400 * S), CLICKS));
    assert!(past
        .iter()
        .all(|f| f.2 == Status::UnknownEntity && f.3.is_none()));
    // Before its first event too: only events at or before the read count.
    let early = {
        let mut rt = StreamRuntime::with_tier(graph(), options, None).expect("runtime");
        rt.ingest("clicks", &batch(&[(500 * S, 1, 3.0)]))
            .expect("ingest");
        rt.ingest("orders", &batch(&[(500 * S, 1, 3.0)]))
            .expect("ingest");
        read(&rt, 1, 400 * S)
    };
    assert!(
        early.iter().all(|f| f.2 == Status::UnknownEntity),
        "{early:?}"
    );
    // At its retention's last microsecond it is seen, with its event time.
    let seen = of(&read(&rt, 1, 150 * S - 1), CLICKS);
    assert!(
        seen.iter().all(|f| f.2 != Status::UnknownEntity),
        "{seen:?}"
    );
    assert_eq!(seen[0].3, Some(0));
}
