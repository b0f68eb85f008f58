//! Generators of random featc projects and data for the cross-path property tests.
//!
//! A generated case is a `.feat` project (text, so the parser and checker are exercised
//! too), one event source as an Arrow batch and a spine. The generator is tuned to hit
//! the boundaries semantics.md cares about: timestamps on a coarse grid so that events
//! fall exactly at `t` and `t - W` and tie with each other, nulls in keys and values,
//! keys the spine asks for but no event has, `-0.0`/`+0.0`, values whose float sums need
//! exact arithmetic, and duplicate spine rows.

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use proptest::prelude::*;
use proptest::sample::select;
use std::sync::Arc;

/// One generated case.
#[derive(Debug, Clone)]
pub struct GenCase {
    /// The project text (one file).
    pub feat: String,
    /// The events of source `events`, unsorted.
    pub events: RecordBatch,
    /// The spine: `k`, `sk`, `ts`, `row`.
    pub spine: RecordBatch,
    /// Every feature of the project, in declaration order.
    pub features: Vec<String>,
}

/// One second in microseconds: the generated timestamps sit on a grid of seconds.
const SECOND: i64 = 1_000_000;

/// An event row before it becomes Arrow columns.
#[derive(Debug, Clone)]
pub struct EventRow {
    ts: i64,
    k: Option<i64>,
    sk: Option<&'static str>,
    i: Option<i64>,
    f: Option<f64>,
    s: Option<&'static str>,
    b: Option<bool>,
}

/// A feature of a generated view, already in `.feat` syntax.
#[derive(Debug, Clone)]
struct FeatureSpec {
    call: String,
    filter: Option<&'static str>,
    window: Option<&'static str>,
}

/// A generated view: its entity, optional row filter and ttl, and features.
#[derive(Debug, Clone)]
struct ViewSpec {
    entity: &'static str,
    filter: Option<&'static str>,
    ttl: Option<&'static str>,
    features: Vec<FeatureSpec>,
}

const FLOATS: &[f64] = &[
    0.0, -0.0, 0.1, 0.2, 0.3, 1.5, -2.25, 123.456, 1e16, -1e16, 1e300, -1e300, 5e-324,
    3.0e-310, 7.0, -7.0,
];
const STRINGS: &[&str] = &["a", "b", "ab", "B", "", "zz"];
const SHOP_KEYS: &[&str] = &["x", "y", "z"];
const PREDICATES: &[&str] = &[
    "i > 0",
    "f < 1.5",
    "s = 'a'",
    "b",
    "not b",
    "s in ('a', 'ab')",
    "i is null",
    "f is not null and i % 2 = 0",
    "i / 2 > 1",
    "s not in ('b', null)",
    "coalesce(i, 0) + 1 >= 2 or b",
    "shifted > 0",
];
const WINDOWS: &[&str] = &["1s", "2s", "5s", "30s", "90s"];
/// Columns any aggregation that orders values can take, with their `.feat` spelling.
const ANY_COLUMNS: &[&str] = &["i", "f", "s", "b", "ts", "shifted", "i * 2"];
const NUMERIC_COLUMNS: &[&str] = &["i", "f", "shifted", "i * 2", "f + i", "i - 3"];

fn feature_strategy() -> impl Strategy<Value = FeatureSpec> {
    let call = prop_oneof![
        Just("count(*)".to_string()),
        select(ANY_COLUMNS).prop_map(|c| format!("count({c})")),
        select(PREDICATES).prop_map(|p| format!("count_if({p})")),
        select(&["i", "f", "s", "b"][..]).prop_map(|c| format!("count_distinct({c})")),
        (
            select(&["sum", "avg", "var_pop", "stddev_pop"][..]),
            select(NUMERIC_COLUMNS)
        )
            .prop_map(|(a, c)| format!("{a}({c})")),
        (select(&["min", "max", "first", "last"][..]), select(ANY_COLUMNS))
            .prop_map(|(a, c)| format!("{a}({c})")),
    ];
    (
        call,
        proptest::option::weighted(0.25, select(PREDICATES)),
        proptest::option::weighted(0.75, select(WINDOWS)),
    )
        .prop_map(|(call, filter, window)| FeatureSpec {
            call,
            filter,
            window,
        })
}

fn view_strategy() -> impl Strategy<Value = ViewSpec> {
    (
        select(&["user", "shop", "pair"][..]),
        proptest::option::weighted(0.3, select(PREDICATES)),
        proptest::option::weighted(0.2, select(&["3s", "20s"][..])),
        proptest::collection::vec(feature_strategy(), 1..6),
    )
        .prop_map(|(entity, filter, ttl, features)| ViewSpec {
            entity,
            filter,
            ttl,
            features,
        })
}

fn event_strategy() -> impl Strategy<Value = EventRow> {
    (
        0i64..40,
        prop_oneof![3 => Just(0i64), 1 => 1i64..SECOND],
        proptest::option::weighted(0.9, 0i64..4),
        proptest::option::weighted(0.9, select(SHOP_KEYS)),
        proptest::option::weighted(0.8, -3i64..6),
        proptest::option::weighted(0.8, select(FLOATS)),
        proptest::option::weighted(0.8, select(STRINGS)),
        proptest::option::weighted(0.8, any::<bool>()),
    )
        .prop_map(|(sec, micros, k, sk, i, f, s, b)| EventRow {
            ts: sec * SECOND + micros,
            k,
            sk,
            i,
            f,
            s,
            b,
        })
}

/// A spine row: keys (the unseen key 9 and shop `w` included), a time on the grid or
/// one microsecond off it, and a label-like row number.
fn spine_strategy() -> impl Strategy<Value = (i64, &'static str, i64)> {
    (
        prop_oneof![4 => 0i64..4, 1 => Just(9i64)],
        prop_oneof![4 => select(SHOP_KEYS), 1 => Just("w")],
        -2i64..45,
        prop_oneof![4 => Just(0i64), 1 => Just(1i64), 1 => Just(-1i64)],
    )
        .prop_map(|(k, sk, sec, off)| (k, sk, sec * SECOND + off))
}

/// Strategy for whole cases.
pub fn case_strategy() -> impl Strategy<Value = GenCase> {
    (
        proptest::collection::vec(view_strategy(), 1..4),
        proptest::collection::vec(event_strategy(), 0..80),
        proptest::collection::vec(spine_strategy(), 1..40),
    )
        .prop_map(|(views, events, spine)| build_case(&views, &events, &spine))
}

fn build_case(
    views: &[ViewSpec],
    events: &[EventRow],
    spine: &[(i64, &'static str, i64)],
) -> GenCase {
    let mut feat = String::from(
        "source events {\n    time ts\n    columns {\n        k: int64?\n        sk: string?\n        \
         i: int64?\n        f: float64?\n        s: string?\n        b: bool?\n    }\n}\n\
         entity user { key k: int64 }\n\
         entity shop { key sk: string }\n\
         entity pair { key (k: int64, sk: string) }\n",
    );
    let mut features = Vec::new();
    for (v, view) in views.iter().enumerate() {
        feat.push_str(&format!("view v{v} from events by {} {{\n", view.entity));
        // The let comes first so that a view filter may use it.
        feat.push_str("    let shifted = i - 1\n");
        if let Some(filter) = view.filter {
            feat.push_str(&format!("    where {filter}\n"));
        }
        for (n, f) in view.features.iter().enumerate() {
            let name = format!("v{v}_f{n}");
            feat.push_str(&format!("    feature {name} = {}", f.call));
            if let Some(filter) = f.filter {
                feat.push_str(&format!(" where {filter}"));
            }
            if let Some(window) = f.window {
                feat.push_str(&format!(" over {window}"));
            }
            feat.push('\n');
            features.push(name);
        }
        if let Some(ttl) = view.ttl {
            feat.push_str(&format!("    ttl {ttl}\n"));
        }
        feat.push_str("}\n");
    }
    GenCase {
        feat,
        events: events_batch(events),
        spine: spine_batch(spine),
        features,
    }
}

fn timestamp_field(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        false,
    )
}

/// The events as one Arrow batch with the declared schema.
pub fn events_batch(rows: &[EventRow]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        timestamp_field("ts"),
        Field::new("k", DataType::Int64, true),
        Field::new("sk", DataType::Utf8, true),
        Field::new("i", DataType::Int64, true),
        Field::new("f", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.ts).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from(rows.iter().map(|r| r.k).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|r| r.sk).collect::<Vec<_>>())),
        Arc::new(Int64Array::from(rows.iter().map(|r| r.i).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(rows.iter().map(|r| r.f).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|r| r.s).collect::<Vec<_>>())),
        Arc::new(BooleanArray::from(rows.iter().map(|r| r.b).collect::<Vec<_>>())),
    ];
    RecordBatch::try_new(schema, columns).expect("generated events match their schema")
}

/// The spine as one Arrow batch: `k`, `sk`, `ts`, `row` (a label the output must keep).
pub fn spine_batch(rows: &[(i64, &'static str, i64)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("sk", DataType::Utf8, false),
        timestamp_field("ts"),
        Field::new("row", DataType::Int64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|r| r.1).collect::<Vec<_>>())),
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from_iter_values(0..rows.len() as i64)),
    ];
    RecordBatch::try_new(schema, columns).expect("generated spine matches its schema")
}
