//! Online reads of the streaming runtime on a hand-made project: windows decay without
//! new events, exact window edges, unknown entities, ttl staleness, null keys, late
//! events under both policies, a history loaded grouped by entity, the read horizon,
//! bad input, a read of one key across two entities, and the graph's JSON form.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc::SourceFile;
use featc_runtime::stream::{
    Keys, LatePolicy, Options, Read, Selection, Status, StreamError, StreamGraph, StreamRuntime,
};
use featc_runtime::value::Value;

use crate::stream_support::graph_of;

const S: i64 = 1_000_000;

const PROJECT: &str = "
source clicks {
    time ts
    columns {
        user:   int64?
        amount: float64?
        kind:   string?
    }
    lateness 10s
}
entity user { key user: int64 }
view activity from clicks by user {
    where kind is null or kind != 'bot'
    feature n_1m      = count(*) over 1m
    feature sum_1m    = sum(amount) over 1m
    feature avg_1m    = avg(amount) over 1m
    feature total     = count(*)
}
view recent from clicks by user {
    feature last_amount = last(amount)
    ttl 5m
}
";

fn graph() -> StreamGraph {
    graph_of("online.feat", PROJECT)
}

fn runtime(policy: LatePolicy) -> StreamRuntime {
    StreamRuntime::with_options(
        graph(),
        Options {
            late_policy: policy,
            ..Options::default()
        },
    )
    .expect("runtime")
}

/// A click: (ts, user, amount, kind).
type Click<'a> = (i64, Option<i64>, Option<f64>, Option<&'a str>);

fn clicks(rows: &[Click<'_>]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("user", DataType::Int64, true),
        Field::new("amount", DataType::Float64, true),
        Field::new("kind", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema, columns).expect("batch")
}

fn read(rt: &mut StreamRuntime, user: i64, t: i64) -> Vec<(Value, Status)> {
    let v = rt
        .read(&Read::new(
            Keys::Entity(&[Value::Int64(user)]),
            Selection::All,
            t,
        ))
        .expect("read");
    assert_eq!(v.at, t);
    v.features
        .into_iter()
        .map(|f| (f.value, f.status))
        .collect()
}

fn value(rt: &mut StreamRuntime, name: &str, user: i64, t: i64) -> (Value, Status) {
    let v = rt
        .read(&Read::new(
            Keys::Entity(&[Value::Int64(user)]),
            Selection::Features(&[name]),
            t,
        ))
        .expect("read");
    let f = &v.features[0];
    assert_eq!(&*f.name, name);
    (f.value.clone(), f.status.clone())
}

#[test]
fn windows_decay_without_new_events_and_edges_are_left_open() {
    let mut rt = runtime(LatePolicy::Apply);
    rt.ingest(
        "clicks",
        &clicks(&[
            (0, Some(1), Some(1.5), None),
            (30 * S, Some(1), Some(2.5), Some("web")),
        ]),
    )
    .expect("ingest");
    assert_eq!(value(&mut rt, "n_1m", 1, 30 * S).0, Value::Int64(2));
    assert_eq!(value(&mut rt, "sum_1m", 1, 30 * S).0, Value::Float64(4.0));
    // The event at 0 sits exactly at t - W for t = 60s: out.
    assert_eq!(value(&mut rt, "n_1m", 1, 60 * S - 1).0, Value::Int64(2));
    assert_eq!(value(&mut rt, "n_1m", 1, 60 * S).0, Value::Int64(1));
    assert_eq!(value(&mut rt, "sum_1m", 1, 60 * S).0, Value::Float64(2.5));
    assert_eq!(value(&mut rt, "n_1m", 1, 90 * S - 1).0, Value::Int64(1));
    let all = read(&mut rt, 1, 90 * S);
    assert_eq!(all[0], (Value::Int64(0), Status::Present));
    assert!(
        matches!(all[1], (Value::Float64(z), Status::Present) if z.to_bits() == 0.0f64.to_bits())
    );
    assert_eq!(all[2], (Value::Null, Status::Null));
    assert_eq!(all[3], (Value::Int64(2), Status::Present));
    // Reading an earlier time again is still exact (an event at t is in).
    assert_eq!(value(&mut rt, "n_1m", 1, 30 * S).0, Value::Int64(2));
    assert_eq!(value(&mut rt, "n_1m", 1, 30 * S - 1).0, Value::Int64(1));
    assert_eq!(value(&mut rt, "n_1m", 1, -1).0, Value::Int64(0));
}

#[test]
fn unknown_entities_get_the_empty_values() {
    let mut rt = runtime(LatePolicy::Apply);
    rt.ingest("clicks", &clicks(&[(0, Some(1), Some(1.0), None)]))
        .expect("ingest");
    let all = read(&mut rt, 99, 10 * S);
    assert_eq!(all[0], (Value::Int64(0), Status::UnknownEntity));
    assert_eq!(all[1], (Value::Float64(0.0), Status::UnknownEntity));
    assert_eq!(all[2], (Value::Null, Status::UnknownEntity));
    assert_eq!(all[3], (Value::Int64(0), Status::UnknownEntity));
    assert_eq!(all[4], (Value::Null, Status::UnknownEntity));
}

#[test]
fn a_feature_picked_twice_reads_alike_in_both_places() {
    let mut rt = runtime(LatePolicy::Apply);
    rt.ingest(
        "clicks",
        &clicks(&[(0, Some(1), Some(1.5), None), (S, Some(1), Some(2.0), None)]),
    )
    .expect("ingest");
    // Repeats within one view and across two, in the order asked.
    let names = ["sum_1m", "last_amount", "sum_1m", "n_1m", "last_amount"];
    for user in [1, 99] {
        let v = rt
            .read(&Read::new(
                Keys::Entity(&[Value::Int64(user)]),
                Selection::Features(&names),
                10 * S,
            ))
            .expect("read");
        let got: Vec<_> = v
            .features
            .iter()
            .map(|f| (f.name.to_string(), f.value.clone(), f.status.clone()))
            .collect();
        let one_by_one: Vec<_> = names
            .iter()
            .map(|&n| {
                let (value, status) = value(&mut rt, n, user, 10 * S);
                (n.to_string(), value, status)
            })
            .collect();
        assert_eq!(got, one_by_one, "user {user}");
    }
    assert_eq!(value(&mut rt, "sum_1m", 1, 10 * S).0, Value::Float64(3.5));
}

#[test]
fn ttl_makes_a_view_stale_and_the_view_filter_applies() {
    let mut rt = runtime(LatePolicy::Apply);
    rt.ingest(
        "clicks",
        &clicks(&[
            (30 * S, Some(1), Some(7.0), None),
            (40 * S, Some(1), Some(1.0), Some("bot")),
        ]),
    )
    .expect("ingest");
    // `recent` has no filter: the bot row at 40s is its latest.
    assert_eq!(
        value(&mut rt, "last_amount", 1, 340 * S - 1),
        (Value::Float64(1.0), Status::Present)
    );
    assert_eq!(
        value(&mut rt, "last_amount", 1, 340 * S),
        (Value::Null, Status::Stale)
    );
    // `activity` drops the bot row.
    assert_eq!(value(&mut rt, "total", 1, 50 * S).0, Value::Int64(1));
}

#[test]
fn null_keys_are_counted_not_aggregated() {
    let mut rt = runtime(LatePolicy::Apply);
    rt.ingest(
        "clicks",
        &clicks(&[(0, None, Some(1.0), None), (S, Some(2), None, None)]),
    )
    .expect("ingest");
    let m = rt.metrics();
    assert_eq!(m.events, 2);
    assert_eq!(
        m.null_keys, 1,
        "one (row, key_by) pair: both views share the key_by"
    );
    assert_eq!(m.entities, 1);
    assert!(m.state_bytes > 0);
}

#[test]
fn late_events_are_applied_and_counted_by_default() {
    assert_eq!(Options::default().late_policy, LatePolicy::Apply);
    let mut rt = runtime(LatePolicy::default());
    rt.ingest("clicks", &clicks(&[(100 * S, Some(1), Some(1.0), None)]))
        .expect("ingest");
    assert_eq!(rt.watermark("clicks"), Some(90 * S));
    // 95s is within the lateness, 80s is late.
    rt.ingest(
        "clicks",
        &clicks(&[
            (95 * S, Some(1), Some(1.0), None),
            (80 * S, Some(1), Some(1.0), None),
        ]),
    )
    .expect("ingest");
    let m = rt.metrics();
    assert_eq!((m.late, m.dead_lettered), (1, 0));
    assert_eq!(rt.dead_letters().rows(), 0);
    assert_eq!(value(&mut rt, "total", 1, 100 * S).0, Value::Int64(3));
    assert_eq!(value(&mut rt, "n_1m", 1, 100 * S).0, Value::Int64(3));
}

#[test]
fn late_events_can_go_to_the_dead_letter_sink() {
    let mut rt = runtime(LatePolicy::DeadLetter);
    rt.ingest("clicks", &clicks(&[(100 * S, Some(1), Some(1.0), None)]))
        .expect("ingest");
    rt.ingest(
        "clicks",
        &clicks(&[
            (95 * S, Some(1), Some(1.0), None),
            (80 * S, Some(1), Some(2.0), None),
        ]),
    )
    .expect("ingest");
    let m = rt.metrics();
    assert_eq!((m.late, m.dead_lettered), (1, 1));
    assert_eq!(value(&mut rt, "total", 1, 100 * S).0, Value::Int64(2));
    let dead = rt.dead_letters().batches();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, "clicks");
    let ts = dead[0]
        .1
        .column(0)
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .expect("ts");
    assert_eq!(ts.values().to_vec(), vec![80 * S]);
    // The sink hands the rows back for re-ingestion (they are still late: counted again).
    let rows = rt.dead_letters_mut().take();
    assert_eq!(rt.dead_letters().rows(), 0);
    assert_eq!(rows[0].1.num_rows(), 1);
}

/// A history loaded grouped by entity (`ingest_history`) reads as the same history
/// ingested in event-time order: no event is late or dead-lettered, though in that
/// order most would be under `ingest`.
#[test]
fn a_history_in_entity_order_reads_as_in_time_order() {
    let mut rows: Vec<Click<'_>> = (0..600)
        .map(|i| {
            let kind = [None, Some("web"), Some("bot")][i as usize % 3];
            (i * 7 * S, Some(i % 13), Some((i % 17) as f64), kind)
        })
        .collect();
    let mut in_time = runtime(LatePolicy::DeadLetter);
    for part in rows.chunks(64) {
        in_time.ingest("clicks", &clicks(part)).expect("ingest");
    }
    rows.sort_by_key(|r| (r.1, r.0));
    let mut history = runtime(LatePolicy::DeadLetter);
    let mut live = runtime(LatePolicy::DeadLetter);
    for part in rows.chunks(64) {
        history
            .ingest_history("clicks", &clicks(part))
            .expect("ingest");
        live.ingest("clicks", &clicks(part)).expect("ingest");
    }
    assert!(live.metrics().late > 100, "{:?}", live.metrics());
    let m = history.metrics();
    assert_eq!((m.late, m.dead_lettered, m.events), (0, 0, 600), "{m:?}");
    assert_eq!(history.watermark("clicks"), in_time.watermark("clicks"));
    let end = 600 * 7 * S;
    for t in [end - 10 * S, end, end + 30 * S, end + 3_600 * S] {
        for user in 0..14 {
            assert_eq!(
                read(&mut history, user, t),
                read(&mut in_time, user, t),
                "user {user} at {t}"
            );
        }
    }
}

#[test]
fn reads_before_the_promised_horizon_are_refused() {
    let mut rt = runtime(LatePolicy::Apply);
    rt.ingest("clicks", &clicks(&[(100 * S, Some(1), Some(1.0), None)]))
        .expect("ingest");
    rt.ingest("clicks", &clicks(&[(101 * S, Some(1), Some(1.0), None)]))
        .expect("ingest");
    let err = rt
        .read(&Read::new(
            Keys::Entity(&[Value::Int64(1)]),
            Selection::All,
            50 * S,
        ))
        .expect_err("too old");
    assert_eq!(
        err,
        StreamError::ReadBeforeHorizon {
            at: 50 * S,
            horizon: 90 * S
        }
    );
    assert_eq!(value(&mut rt, "total", 1, 90 * S).0, Value::Int64(0));
    assert_eq!(value(&mut rt, "total", 1, 101 * S).0, Value::Int64(2));
}

#[test]
fn compaction_keeps_every_read_after_the_watermark_exact() {
    let mut rt = runtime(LatePolicy::Apply);
    let rows: Vec<_> = (0..300)
        .map(|i| (i * S, Some(1), Some(i as f64), None))
        .collect();
    for chunk in rows.chunks(10) {
        rt.ingest("clicks", &clicks(chunk)).expect("ingest");
    }
    rt.compact().unwrap();
    // Watermark 289s: events at 229s or before are no longer needed by 1m windows.
    assert_eq!(value(&mut rt, "total", 1, 299 * S).0, Value::Int64(300));
    assert_eq!(value(&mut rt, "n_1m", 1, 299 * S).0, Value::Int64(60));
    let expected: f64 = (240..300).map(|i| i as f64).sum();
    assert_eq!(
        value(&mut rt, "sum_1m", 1, 299 * S).0,
        Value::Float64(expected)
    );
    assert_eq!(value(&mut rt, "n_1m", 1, 400 * S).0, Value::Int64(0));
}

#[test]
fn bad_batches_are_refused_whole() {
    let mut rt = runtime(LatePolicy::Apply);
    let no_kind = clicks(&[(0, Some(1), None, None)])
        .project(&[0, 1, 2])
        .expect("project");
    match rt.ingest("clicks", &no_kind) {
        Err(StreamError::MissingColumn { table, column }) => {
            assert_eq!((table.as_str(), column.as_str()), ("clicks", "kind"))
        }
        other => panic!("expected a missing column, got {other:?}"),
    }
    assert!(matches!(
        rt.ingest("nope", &no_kind),
        Err(StreamError::UnknownSource(_))
    ));
    assert_eq!(rt.metrics().events, 0);
    assert!(matches!(
        rt.read(&Read::new(
            Keys::Entity(&[Value::Int64(1)]),
            Selection::Features(&["nope"]),
            0
        )),
        Err(StreamError::UnknownFeature(_))
    ));
    assert!(matches!(
        rt.read(&Read::new(
            Keys::Entity(&[Value::Int64(1), Value::Int64(2)]),
            Selection::All,
            0
        )),
        Err(StreamError::KeyArity {
            expected: 1,
            found: 2,
            ..
        })
    ));
}

#[test]
fn the_graph_round_trips_through_json() {
    let g = graph();
    let back = StreamGraph::from_json(&g.to_json()).expect("valid json");
    assert_eq!(back, g);
    let mut bad = g.clone();
    bad.version += 1;
    assert!(StreamGraph::from_json(&bad.to_json()).is_err());
    let mut dangling = g;
    for node in &mut dangling.nodes {
        if let featc_runtime::stream::graph::Op::Output(o) = &mut node.op {
            o.features
                .push(featc_runtime::stream::graph::OutputFeature::Aggregate {
                    aggregate: featc_runtime::stream::graph::NodeId(999),
                    index: 0,
                });
        }
    }
    assert!(dangling.validate().is_err());
}

/// Regression: the streaming path refused an int32 spine key column (and narrower or
/// dictionary-encoded columns in ingested batches) that the batch path's IO boundary
/// (`row::types::compatible`) accepts, so the same spine gave a table in batch and an error
/// in replay. Both now read them as the declared type.
#[test]
fn narrower_ints_and_dictionary_strings_are_read_like_the_batch_path() {
    use datafusion::arrow::array::{Array, DictionaryArray, Int32Array};
    use datafusion::arrow::datatypes::Int32Type;
    use featc_runtime::stream::{replay, ReplayOptions};

    let wide = clicks(&[
        (0, Some(1), Some(2.0), Some("web")),
        (S, Some(2), Some(3.0), None),
    ]);
    let kinds: DictionaryArray<Int32Type> = vec![Some("web"), None].into_iter().collect();
    let narrow_schema = Arc::new(Schema::new(vec![
        wide.schema().field(0).clone(),
        Field::new("user", DataType::Int32, true),
        wide.schema().field(2).clone(),
        Field::new("kind", kinds.data_type().clone(), true),
    ]));
    let narrow = RecordBatch::try_new(
        narrow_schema,
        vec![
            wide.column(0).clone(),
            Arc::new(Int32Array::from(vec![Some(1), Some(2)])),
            wide.column(2).clone(),
            Arc::new(kinds),
        ],
    )
    .expect("batch");
    let spine = |user: ArrayRef| {
        let ts: ArrayRef =
            Arc::new(TimestampMicrosecondArray::from(vec![2 * S, 2 * S]).with_timezone("UTC"));
        let schema = Arc::new(Schema::new(vec![
            Field::new("user", user.data_type().clone(), false),
            Field::new("ts", ts.data_type().clone(), false),
        ]));
        RecordBatch::try_new(schema, vec![user, ts]).expect("spine")
    };
    let run = |events: &RecordBatch, spine: &RecordBatch| {
        let sources = [("clicks".to_string(), vec![events.clone()])];
        let (out, _) = replay(
            graph(),
            &sources,
            spine,
            "ts",
            &Selection::All,
            &ReplayOptions::default(),
        )
        .unwrap_or_else(|e| panic!("replay: {e}"));
        out
    };
    let expected = run(&wide, &spine(Arc::new(Int64Array::from(vec![1, 2]))));
    let actual = run(&narrow, &spine(Arc::new(Int32Array::from(vec![1, 2]))));
    assert_eq!(actual.num_columns(), expected.num_columns());
    for c in 2..expected.num_columns() {
        assert_eq!(actual.column(c), expected.column(c), "feature column {c}");
    }
}

/// A graph written by an older featc (version 1: derive and key_by nodes) is refused
/// by its version, with the command that regenerates it, before its shape is read.
#[test]
fn a_graph_of_an_older_version_is_refused_with_how_to_regenerate_it() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stream_graph_v1.json");
    let text = std::fs::read_to_string(path).expect("fixture");
    let err = StreamGraph::from_json(&text).expect_err("version 1 is refused");
    assert!(
        matches!(
            err,
            featc_runtime::stream::graph::GraphError::Version {
                found: 1,
                expected: featc_runtime::stream::graph::GRAPH_VERSION
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("featc build PROJECT --emit stream-json"),
        "{message}"
    );
}

/// Each feature's `event_time` is its view's latest event at the read time: a view's
/// `where` decides which events are its own, in the buffer, once they are dropped
/// from it (also for a late event that only reaches lifetime folds), and after a
/// snapshot is restored.
#[test]
fn event_times_are_the_latest_event_of_each_features_view() {
    fn times(rt: &mut StreamRuntime, t: i64) -> Vec<(String, Option<i64>)> {
        rt.read(&Read::new(
            Keys::Entity(&[Value::Int64(1)]),
            Selection::All,
            t,
        ))
        .expect("read")
        .features
        .iter()
        .map(|f| (f.name.to_string(), f.event_time))
        .collect()
    }
    fn expect(activity: i64, recent: i64) -> Vec<(String, Option<i64>)> {
        ["n_1m", "sum_1m", "avg_1m", "total"]
            .iter()
            .map(|n| (n.to_string(), Some(activity)))
            .chain([("last_amount".to_string(), Some(recent))])
            .collect()
    }
    let mut rt = runtime(LatePolicy::Apply);
    let first = [
        (10 * S, Some(1), Some(1.0), None),
        (20 * S, Some(1), Some(2.0), Some("bot")),
    ];
    rt.ingest("clicks", &clicks(&first)).expect("ingest");
    assert_eq!(times(&mut rt, 30 * S), expect(10 * S, 20 * S));
    assert_eq!(
        times(&mut rt, 15 * S),
        [
            ("n_1m", 10),
            ("sum_1m", 10),
            ("avg_1m", 10),
            ("total", 10),
            ("last_amount", 10)
        ]
        .iter()
        .map(|(n, t)| (n.to_string(), Some(t * S)))
        .collect::<Vec<_>>()
    );
    // An hour later both events are out of every window; compaction drops them.
    rt.ingest("clicks", &clicks(&[(3600 * S, Some(2), Some(1.0), None)]))
        .expect("ingest");
    rt.compact().unwrap();
    assert_eq!(times(&mut rt, 3600 * S), expect(10 * S, 20 * S));
    // A late event below the dropped frontier reaches lifetime folds and the times.
    rt.ingest("clicks", &clicks(&[(15 * S, Some(1), None, Some("web"))]))
        .expect("ingest");
    assert_eq!(times(&mut rt, 3600 * S), expect(15 * S, 20 * S));
    let bytes = rt.snapshot().expect("snapshot");
    let mut back = StreamRuntime::restore(graph(), Options::default(), &bytes).expect("restore");
    assert_eq!(times(&mut back, 3600 * S), expect(15 * S, 20 * S));
}

/// Fed by partitions, a source's watermark follows its slowest live partition: an
/// event of a lagging partition is not late because another one is ahead; an idle
/// partition stops holding the watermark back until its next event; the clocks
/// survive a snapshot. (The project's lateness is 10 s.)
#[test]
fn a_lagging_partition_holds_the_watermark_and_an_idle_one_does_not() {
    let mut rt = runtime(LatePolicy::Apply);
    let one = |ts: i64| clicks(&[(ts * S, Some(1), Some(1.0), None)]);
    rt.ingest_partition("clicks", 0, &one(100)).expect("p0");
    rt.ingest_partition("clicks", 1, &one(5)).expect("p1");
    assert_eq!(rt.watermark("clicks"), Some(-5 * S));
    // 50 s is far behind partition 0 (watermark 90 s alone) but not behind partition 1.
    rt.ingest_partition("clicks", 1, &one(50)).expect("p1");
    assert_eq!(rt.metrics().late, 0);
    assert_eq!(rt.watermark("clicks"), Some(40 * S));
    // Partition 1 falls silent: idle, it no longer holds the watermark.
    rt.set_partition_idle("clicks", 1, true).expect("idle");
    assert_eq!(rt.watermark("clicks"), Some(90 * S));
    rt.ingest_partition("clicks", 0, &one(80)).expect("p0");
    assert_eq!(rt.metrics().late, 1, "80 s is behind the watermark of 90 s");
    let bytes = rt.snapshot().expect("snapshot");
    let mut back = StreamRuntime::restore(graph(), Options::default(), &bytes).expect("restore");
    assert_eq!(back.watermark("clicks"), Some(90 * S));
    // Its next event makes partition 1 live again.
    back.ingest_partition("clicks", 1, &one(60)).expect("p1");
    assert_eq!(
        back.metrics().late,
        1,
        "60 s was not late: partition 1 was at 50 s"
    );
    assert_eq!(back.watermark("clicks"), Some(50 * S));
}

/// Derived features read online: a view's (over its own features) without a request,
/// a service's with the read's request fields (`Read::with_request`); an int64 is a
/// float64 field's value, a missing non-nullable field or a value of another type
/// refuses the read, and an input's error or overflow is the derived feature's error.
#[test]
fn derived_features_read_with_the_requests_fields() {
    let text = format!(
        "{PROJECT}
view totals from clicks by user {{
    feature big_sum = sum(amount) over 1m
    feature share = big_sum / total
}}
request basket {{ price: float64  note: string? }}
service pricing {{
    share
    feature price_vs_avg = basket.price - coalesce(avg_1m, 0.0)
    feature labelled = coalesce(basket.note, 'none')
}}
"
    );
    let files = [SourceFile {
        name: "derived.feat".into(),
        text,
    }];
    let project = featc::compile(&files).unwrap_or_else(|d| panic!("{d:?}"));
    let graph =
        featc::lower::stream::lower_stream(&project, &project.all_features()).expect("lower");
    let mut rt = StreamRuntime::new(graph).expect("runtime");
    rt.ingest(
        "clicks",
        &clicks(&[
            (S, Some(1), Some(10.0), None),
            (2 * S, Some(1), Some(20.0), None),
        ]),
    )
    .expect("ingest");
    let key = [Value::Int64(1)];
    // A view's derived feature needs no request.
    let v = rt
        .read(&Read::new(
            Keys::Entity(&key),
            Selection::Features(&["share"]),
            3 * S,
        ))
        .expect("read");
    assert_eq!(v.features[0].value, Value::Float64(15.0));
    assert_eq!(v.features[0].status, Status::Present);
    assert_eq!(v.features[0].event_time, Some(2 * S));

    let service = Selection::Service("pricing");
    let fields = [("price", Value::Int64(40)), ("note", Value::Null)];
    let v = rt
        .read(
            &Read::new(Keys::Entity(&key), service, 3 * S)
                .with_request(featc_runtime::stream::Request::new(&fields)),
        )
        .expect("read");
    let values: Vec<&Value> = v.features.iter().map(|f| &f.value).collect();
    assert_eq!(
        values,
        [
            &Value::Float64(15.0),
            &Value::Float64(25.0),
            &Value::String("none".into())
        ]
    );
    // An unknown entity: the average is null, so the price stands alone.
    let v = rt
        .read(
            &Read::new(
                Keys::Entity(&[Value::Int64(7)]),
                Selection::Features(&["price_vs_avg"]),
                3 * S,
            )
            .with_request(featc_runtime::stream::Request::new(&fields)),
        )
        .expect("read");
    assert_eq!(v.features[0].value, Value::Float64(40.0));

    match rt.read(&Read::new(Keys::Entity(&key), service, 3 * S)) {
        Err(StreamError::MissingRequestField { field, .. }) => assert_eq!(field, "price"),
        other => panic!("{other:?}"),
    }
    let wrong = [("price", Value::String("forty".into()))];
    match rt.read(
        &Read::new(Keys::Entity(&key), service, 3 * S)
            .with_request(featc_runtime::stream::Request::new(&wrong)),
    ) {
        Err(StreamError::RequestFieldType { field, .. }) => assert_eq!(field, "price"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_read_of_one_key_never_mixes_entities() {
    // `PROJECT` and a view of a second entity: its runtime takes the checked path of a
    // read (`Core::one_entity` is false), a one-entity runtime skips the check.
    let text = format!(
        "{PROJECT}\nentity kind {{ key kind: string }}\n\
         view by_kind from clicks by kind {{\n    feature kind_n = count(*) over 1m\n}}\n"
    );
    let runtime_of = |graph| StreamRuntime::with_options(graph, Options::default());
    let mut two = runtime_of(graph_of("two.feat", &text)).expect("runtime");
    let mut one = runtime_of(graph()).expect("runtime");
    let events = clicks(&[
        (0, Some(1), Some(1.5), Some("web")),
        (S, Some(1), Some(2.0), None),
    ]);
    two.ingest("clicks", &events).expect("ingest");
    one.ingest("clicks", &events).expect("ingest");
    let user = [Value::Int64(1)];
    let err = two
        .read(&Read::new(Keys::Entity(&user), Selection::All, 2 * S))
        .expect_err("one key for two entities");
    assert!(
        matches!(&err, StreamError::MixedEntities(e) if *e == ["kind", "user"]),
        "{err}"
    );
    // One entity's features read alike in both runtimes.
    let names = ["n_1m", "sum_1m", "last_amount", "total"];
    let of_user = |rt: &mut StreamRuntime| {
        rt.read(&Read::new(
            Keys::Entity(&user),
            Selection::Features(&names),
            2 * S,
        ))
        .expect("read")
    };
    assert_eq!(of_user(&mut two), of_user(&mut one));
    // A key per entity reads everything.
    let kind = [Value::String("web".into())];
    let both = two
        .read(&Read::new(
            Keys::ByEntity(&[("user", &user), ("kind", &kind)]),
            Selection::All,
            2 * S,
        ))
        .expect("read by entity");
    let kind_n = both.features.iter().find(|f| &*f.name == "kind_n");
    assert_eq!(kind_n.map(|f| &f.value), Some(&Value::Int64(1)));
}
