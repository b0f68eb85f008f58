//! List columns and embeddings (semantics.md, "List columns and embeddings") by hand
//! on every path: the project of `tests/fixtures/embeddings.feat` (an element-wise
//! `avg` over a window and a lifetime, `first`/`last` of lists with ties on time,
//! `size`, `element_at` and `xs[i]`, `contains`, `dot`, `cosine`, `l2_distance`)
//! gives the same training set, bit for bit, from the reference, the batch plan
//! (batch sizes 2, 7, default) and streaming replays (in memory, on a disk tier,
//! and across a checkpoint and restore), with the values worked out below; from
//! Arrow list forms (`List<Float32>`, `LargeList<Int32>`, ...) and from JSON text
//! alike; and a list over the item cap is refused on every path.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float32Builder, Float64Builder, Int32Builder, Int64Array,
    LargeListBuilder, ListBuilder, StringArray, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::ir::{ListType, Scalar};
use featc_runtime::row::list::{json_text, list_at};
use featc_runtime::row::list_column::{parse_list_text, MAX_LIST_ITEMS};
use featc_runtime::value::Value;
use featc_test_support::gen::GenCase;
use featc_test_support::hand_case::{hand_case, key_spine};

use super::equivalence::{batch, check, compile, reference, DEFAULT_BATCH_SIZE};

const DAY: i64 = 86_400_000_000;

/// A view: (time, user, emb, anchor, prices, labels), lists as JSON text.
type Row = (
    i64,
    i64,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// The events; `""` is a null list.
const EVENTS: &[Row] = &[
    (DAY, 1, "[1, 2]", "[2, 0]", "[10, 20, 30]", r#"["a", null]"#),
    (2 * DAY, 1, "[3, null, 4]", "[1, 1, 1]", "[11]", "[]"),
    (2 * DAY, 1, "", "", "", ""),
    (5 * DAY, 1, "[0.5]", "[0.5]", "[1, 2]", r#"["b"]"#),
    (2 * DAY, 2, "[]", "[]", "[]", r#"["c"]"#),
    (2 * DAY, 2, "[1]", "", "[5]", r#"["b", "z"]"#),
];

/// A cell's items read as `item` by featc's own JSON list reader; `None`: null.
fn items(cell: &str, item: Scalar) -> Option<Vec<Value>> {
    if cell.is_empty() {
        return None;
    }
    match parse_list_text(cell, item).expect("a list") {
        Value::List(l) => Some(l.items.clone()),
        _ => None,
    }
}

fn f64_of(v: Value) -> Option<f64> {
    match v {
        Value::Float64(f) => Some(f),
        _ => None,
    }
}

/// The events as Arrow list forms (`emb`: `List<Float32>`, `anchor`:
/// `List<Float64>`, `prices`: `LargeList<Int32>`, `labels`: `List<Utf8>`), or as
/// JSON text columns when `text`.
fn events(rows: &[Row], text: bool) -> RecordBatch {
    let column =
        |pick: fn(&Row) -> &'static str| -> Vec<&'static str> { rows.iter().map(pick).collect() };
    let (emb, anchor, prices, labels) = (
        column(|r| r.2),
        column(|r| r.3),
        column(|r| r.4),
        column(|r| r.5),
    );
    let as_text = |cells: &[&str]| -> ArrayRef {
        Arc::new(StringArray::from(
            cells
                .iter()
                .map(|c| (!c.is_empty()).then_some(*c))
                .collect::<Vec<_>>(),
        ))
    };
    let columns: Vec<ArrayRef> = if text {
        vec![
            as_text(&emb),
            as_text(&anchor),
            as_text(&prices),
            as_text(&labels),
        ]
    } else {
        let mut e = ListBuilder::new(Float32Builder::new());
        for c in &emb {
            match items(c, Scalar::Float64) {
                None => e.append(false),
                Some(xs) => {
                    for x in xs {
                        e.values().append_option(f64_of(x).map(|f| f as f32));
                    }
                    e.append(true);
                }
            }
        }
        let mut a = ListBuilder::new(Float64Builder::new());
        for c in &anchor {
            match items(c, Scalar::Float64) {
                None => a.append(false),
                Some(xs) => {
                    for x in xs {
                        a.values().append_option(f64_of(x));
                    }
                    a.append(true);
                }
            }
        }
        let mut p = LargeListBuilder::new(Int32Builder::new());
        for c in &prices {
            match items(c, Scalar::Int64) {
                None => p.append(false),
                Some(xs) => {
                    for x in xs {
                        let i = match x {
                            Value::Int64(i) => i32::try_from(i).ok(),
                            _ => None,
                        };
                        p.values().append_option(i);
                    }
                    p.append(true);
                }
            }
        }
        let mut l = ListBuilder::new(StringBuilder::new());
        for c in &labels {
            match items(c, Scalar::String) {
                None => l.append(false),
                Some(xs) => {
                    for x in xs {
                        let text = match x {
                            Value::String(t) => Some(t.to_string()),
                            _ => None,
                        };
                        l.values().append_option(text);
                    }
                    l.append(true);
                }
            }
        }
        vec![
            Arc::new(e.finish()),
            Arc::new(a.finish()),
            Arc::new(p.finish()),
            Arc::new(l.finish()),
        ]
    };
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let mut fields = vec![
        Field::new("ts", ts, false),
        Field::new("user_id", DataType::Int64, false),
    ];
    for (name, c) in ["emb", "anchor", "prices", "labels"].iter().zip(&columns) {
        fields.push(Field::new(*name, c.data_type().clone(), true));
    }
    let mut all: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )),
    ];
    all.extend(columns);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), all).expect("events")
}

/// The spine: (user, time).
fn case(events: RecordBatch, features: &[&str], seed: u64) -> GenCase {
    let feat =
        std::fs::read_to_string(featc_test_support::paths::fixtures_dir().join("embeddings.feat"))
            .expect("the embeddings fixture");
    let spine = key_spine(
        "user_id",
        &[
            (1, 0),
            (1, DAY),
            (1, 2 * DAY),
            (1, 4 * DAY),
            (1, 5 * DAY),
            (1, 6 * DAY),
            (2, 2 * DAY),
            (3, 6 * DAY),
        ],
    );
    hand_case(feat, events, spine, features, seed)
}

const FEATURES: &[&str] = &[
    "mean_emb_3d",
    "mean_prices",
    "last_emb_3d",
    "first_tags",
    "last_tags",
    "emb_count",
    "second_price_sum",
    "last_price_sum",
    "tagged_a",
    "tag_q_known",
    "price_items",
    "norm2_max_3d",
    "last_cos",
    "l2_sum",
    "long_lists",
    "first_price_max",
];

/// A list column's cells as their JSON text (`null` for a null list).
fn lists(out: &RecordBatch, name: &str, item: Scalar) -> Vec<String> {
    let c = out.column_by_name(name).expect("column");
    let ty = ListType {
        item,
        counted: false,
    };
    (0..c.len())
        .map(
            |r| match list_at(c.as_ref(), ty, r).expect("a list column") {
                Value::List(l) => json_text(&l),
                _ => "null".to_string(),
            },
        )
        .collect()
}

fn ints(out: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let c = out.column_by_name(name).expect("column");
    c.as_primitive::<Int64Type>().iter().collect()
}

fn floats(out: &RecordBatch, name: &str) -> Vec<Option<u64>> {
    let c = out.column_by_name(name).expect("column");
    c.as_primitive::<Float64Type>()
        .iter()
        .map(|f| f.map(f64::to_bits))
        .collect()
}

fn bits(values: &[Option<f64>]) -> Vec<Option<u64>> {
    values.iter().map(|f| f.map(f64::to_bits)).collect()
}

#[test]
fn list_columns_agree_on_every_path_with_the_worked_values() {
    for (text, seed) in [(false, 1), (false, 2), (true, 2)] {
        let case = case(events(EVENTS, text), FEATURES, seed);
        check(&case).unwrap_or_else(|d| panic!("text {text}, seed {seed}: {d}"));
        let (project, ids) = compile(&case).expect("compiles");
        let out = reference(&project, &ids, &case).expect("reference");
        // Spine rows: user 1 at 0, 1d, 2d, 4d, 5d, 6d; user 2 at 2d; unknown user 3.
        // Windows of 3d: at 4d, (1d, 4d] holds the 2d events; at 5d only the 5d one.
        assert_eq!(
            lists(&out, "mean_emb_3d", Scalar::Float64),
            [
                "null",
                "[1.0,2.0]",
                "[2.0,2.0,4.0]",
                "[3.0,null,4.0]",
                "[0.5]",
                "[0.5]",
                "[1.0]",
                "null"
            ]
        );
        // (10 + 11 + 1) / 3 rounded once; an empty list counts as a list.
        let third = 22.0f64 / 3.0;
        assert_eq!(
            lists(&out, "mean_prices", Scalar::Float64),
            [
                "null".to_string(),
                "[10.0,20.0,30.0]".to_string(),
                "[10.5,20.0,30.0]".to_string(),
                "[10.5,20.0,30.0]".to_string(),
                format!("[{third:?},11.0,30.0]"),
                format!("[{third:?},11.0,30.0]"),
                "[5.0]".to_string(),
                "null".to_string(),
            ]
        );
        // A tie at 2d for user 2: `[1]` is greater than `[]`.
        assert_eq!(
            lists(&out, "last_emb_3d", Scalar::Float64),
            [
                "null",
                "[1.0,2.0]",
                "[3.0,null,4.0]",
                "[3.0,null,4.0]",
                "[0.5]",
                "[0.5]",
                "[1.0]",
                "null"
            ]
        );
        // Ties at 2d for user 2: `["b","z"] < ["c"]` item by item.
        let a_null = r#"["a",null]"#;
        assert_eq!(
            lists(&out, "first_tags", Scalar::String),
            [
                "null",
                a_null,
                a_null,
                a_null,
                a_null,
                a_null,
                r#"["b","z"]"#,
                "null"
            ]
        );
        assert_eq!(
            lists(&out, "last_tags", Scalar::String),
            ["null", a_null, "[]", "[]", r#"["b"]"#, r#"["b"]"#, r#"["c"]"#, "null"]
        );
        let s = Some;
        assert_eq!(
            ints(&out, "emb_count"),
            [s(0), s(1), s(2), s(2), s(3), s(3), s(2), s(0)]
        );
        assert_eq!(
            ints(&out, "second_price_sum"),
            [s(0), s(20), s(20), s(20), s(22), s(22), s(0), s(0)]
        );
        assert_eq!(
            ints(&out, "last_price_sum"),
            [s(0), s(30), s(41), s(41), s(43), s(43), s(5), s(0)]
        );
        assert_eq!(
            ints(&out, "tagged_a"),
            [s(0), s(1), s(1), s(1), s(1), s(1), s(0), s(0)]
        );
        // `contains` is null for `["a", null]` (not found, a null item): not counted.
        assert_eq!(
            ints(&out, "tag_q_known"),
            [s(0), s(0), s(1), s(1), s(2), s(2), s(2), s(0)]
        );
        assert_eq!(
            ints(&out, "price_items"),
            [s(0), s(3), s(4), s(4), s(6), s(6), s(1), s(0)]
        );
        assert_eq!(
            ints(&out, "long_lists"),
            [s(0), s(1), s(1), s(1), s(2), s(2), s(0), s(0)]
        );
        let n = None;
        assert_eq!(
            ints(&out, "first_price_max"),
            [n, s(10), s(11), s(11), s(11), s(11), s(5), n]
        );
        let n: Option<f64> = None;
        // dot(emb, emb): 5 for [1, 2], null for [3, null, 4], 0.25, 0 for [], 1.
        assert_eq!(
            floats(&out, "norm2_max_3d"),
            bits(&[
                n,
                Some(5.0),
                Some(5.0),
                n,
                Some(0.25),
                Some(0.25),
                Some(1.0),
                n
            ])
        );
        let c1 = 2.0 / (5f64.sqrt() * 2.0);
        assert_eq!(
            floats(&out, "last_cos"),
            bits(&[n, Some(c1), Some(c1), Some(c1), Some(1.0), Some(1.0), n, n])
        );
        let r5 = 5f64.sqrt();
        assert_eq!(
            floats(&out, "l2_sum"),
            bits(&[
                Some(0.0),
                Some(r5),
                Some(r5),
                Some(r5),
                Some(r5),
                Some(r5),
                Some(0.0),
                Some(0.0)
            ])
        );
    }
}

/// Float32 items widen exactly: 0.1f32 is read as 0.100000001490116..., not 0.1.
#[test]
fn float32_items_widen_exactly() {
    let rows: &[Row] = &[(DAY, 1, "[0.1]", "[]", "[]", "[]")];
    let case = case(events(rows, false), &["last_emb_3d"], 1);
    check(&case).expect("every path agrees");
    let (project, ids) = compile(&case).expect("compiles");
    let out = reference(&project, &ids, &case).expect("reference");
    let want = format!("[{:?}]", f64::from(0.1f32));
    assert_eq!(lists(&out, "last_emb_3d", Scalar::Float64)[1], want);
}

/// A list longer than the cap is a bad value on every path, named by its column.
#[test]
fn a_list_over_the_item_cap_is_refused_on_every_path() {
    let long = format!("[{}]", vec!["1"; MAX_LIST_ITEMS + 1].join(","));
    let long: &'static str = Box::leak(long.into_boxed_str());
    let rows: &[Row] = &[(DAY, 1, "[1]", "[]", long, "[]")];
    let case = case(events(rows, true), &["price_items"], 1);
    let (project, ids) = compile(&case).expect("compiles");
    let error = reference(&project, &ids, &case).expect_err("too long");
    assert!(format!("{error}").contains("prices"), "{error}");
    let b = batch(&project, &ids, &case, DEFAULT_BATCH_SIZE).expect_err("refused");
    assert!(format!("{b}").contains("65536"), "{b}");
    let graph = featc::lower::stream::lower_stream(&project, &ids).expect("graph");
    let mut rt = featc_runtime::stream::StreamRuntime::new(graph).expect("runtime");
    let stream = rt.ingest("item_views", &case.events).expect_err("refused");
    assert!(format!("{stream}").contains("prices"), "{stream}");
}
