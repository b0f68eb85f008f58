//! As-of lookups online (semantics.md, "As-of lookups online: events wait"): an event
//! waits until the looked-up source's watermark passes its time, is kept across a
//! snapshot, then counts with the value of its own time; a history's events wait
//! until it ends; the number of waiting events is bounded.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc::SourceFile;
use featc_runtime::stream::{Keys, Options, Read, Selection, StreamError, StreamRuntime};
use featc_runtime::value::Value;

use super::union_views::{taps, S, TAPS};

fn runtime(options: Options) -> StreamRuntime {
    runtime_over("k: int64? f: float64?", options)
}

/// The lookup project's runtime, `events` declaring `columns`.
fn runtime_over(columns: &str, options: Options) -> StreamRuntime {
    let feat = format!(
        "source events {{ time ts columns {{ {columns} }} }}\n{TAPS}\
         entity user {{ key k: int64 }}\n\
         view tv from taps by user {{ feature taps_sum = sum(i) over 100s }}\n\
         view v from events by user {{\n    let t = tv.taps_sum at k\n    \
         feature seen = sum(t) over 1000s\n    feature n = count(*) over 1000s\n}}\n"
    );
    let files = [SourceFile {
        name: "lookup.feat".into(),
        text: feat,
    }];
    let project = featc::compile(&files).expect("compiles");
    let graph = featc::lower::stream::lower_stream(&project, &project.all_features())
        .expect("the stream graph computes lookups");
    StreamRuntime::with_options(graph, options).expect("runtime")
}

fn events(times: &[i64]) -> RecordBatch {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", ts, false),
        Field::new("k", DataType::Int64, true),
        Field::new("f", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampMicrosecondArray::from(times.to_vec()).with_timezone("UTC")),
        Arc::new(Int64Array::from(vec![Some(1); times.len()])),
        Arc::new(Float64Array::from(vec![None; times.len()])),
    ];
    RecordBatch::try_new(schema, columns).expect("events")
}

/// v's `seen` and `n` for key 1 at `t`.
fn read(rt: &StreamRuntime, t: i64) -> (Value, Value) {
    let key = [Value::Int64(1)];
    let names = ["seen", "n"];
    let read = Read::new(Keys::Entity(&key), Selection::Features(&names), t);
    let v = rt.read(&read).expect("read");
    (v.features[0].value.clone(), v.features[1].value.clone())
}

#[test]
fn an_event_waits_for_the_looked_up_watermark_then_counts_with_its_times_value() {
    let mut rt = runtime(Options::default());
    rt.ingest("taps", &taps(&[(S, 1, Some(5))])).expect("taps");
    rt.ingest("events", &events(&[2 * S])).expect("events");
    // Taps' watermark is 1s - 10s: a tap at 2s may still come, so the event waits.
    assert_eq!(rt.held_rows(), 1);
    assert_eq!(read(&rt, 3 * S), (Value::Int64(0), Value::Int64(0)));
    // A snapshot keeps the waiting event; the restored runtime goes on alike.
    let bytes = rt.snapshot().expect("snapshot");
    let mut restored =
        StreamRuntime::restore(rt.graph().clone(), rt.options().clone(), &bytes).expect("restore");
    assert_eq!(restored.held_rows(), 1);
    for rt in [&mut rt, &mut restored] {
        // A tap at exactly the event's time counts for it; the watermark (-8s) still
        // holds the event.
        rt.ingest("taps", &taps(&[(2 * S, 1, Some(7))]))
            .expect("taps");
        assert_eq!(rt.held_rows(), 1);
        // At 13s the watermark is 3s, past the event: released with the value at 2s
        // (5 + 7; the tap at 13s is later than the event and does not count).
        rt.ingest("taps", &taps(&[(13 * S, 1, Some(100))]))
            .expect("taps");
        assert_eq!(rt.held_rows(), 0);
        assert_eq!(read(rt, 3 * S), (Value::Int64(12), Value::Int64(1)));
        assert_eq!(rt.metrics().dead_lettered, 0);
    }
}

#[test]
fn a_historys_events_wait_until_it_ends_and_settle_through_releases_them() {
    let mut rt = runtime(Options::default());
    // A history in any order: the events first, then taps far past them.
    rt.ingest_history("events", &events(&[2 * S]))
        .expect("history");
    rt.ingest_history("taps", &taps(&[(2 * S, 1, Some(3)), (50 * S, 1, Some(1))]))
        .expect("history");
    assert_eq!(rt.held_rows(), 1, "no event is released during a history");
    rt.compact().expect("the history ends");
    assert_eq!(rt.held_rows(), 0);
    assert_eq!(read(&rt, 3 * S), (Value::Int64(3), Value::Int64(1)));

    // A replay knows its input is complete through a time: `settle_through`.
    let mut rt = runtime(Options::default());
    rt.ingest("taps", &taps(&[(S, 1, Some(4))])).expect("taps");
    rt.ingest("events", &events(&[S])).expect("events");
    assert_eq!(rt.held_rows(), 1);
    rt.settle_through(S).expect("settle");
    assert_eq!(rt.held_rows(), 0);
    assert_eq!(read(&rt, S), (Value::Int64(4), Value::Int64(1)));
}

#[test]
fn waiting_events_are_bounded_and_a_batch_past_the_bound_is_refused_whole() {
    let options = Options {
        max_held_rows: 2,
        ..Options::default()
    };
    let mut rt = runtime(options);
    rt.ingest("events", &events(&[S])).expect("one waits");
    let refused = rt.ingest("events", &events(&[2 * S, 3 * S]));
    assert!(
        matches!(
            refused,
            Err(StreamError::HeldFull {
                held: 1,
                incoming: 2,
                limit: 2,
                ..
            })
        ),
        "{refused:?}"
    );
    assert!(rt.check("events", &events(&[2 * S, 3 * S])).is_err());
    assert_eq!(rt.held_rows(), 1);
    assert_eq!(rt.metrics().events, 1, "the refused batch changed nothing");
    rt.ingest("events", &events(&[2 * S])).expect("two wait");
    // The looked-up source moves past them: both count (no taps: sums of nothing).
    rt.ingest("taps", &taps(&[(20 * S, 1, None)]))
        .expect("taps");
    assert_eq!(rt.held_rows(), 0);
    assert_eq!(read(&rt, 3 * S), (Value::Int64(0), Value::Int64(2)));
}

/// A view with a lookup over a source whose non-nullable column no feature reads:
/// the column arrives as nulls (it is not required), and the rows rebuilt with the
/// looked-up values take them (found by the checkout example's replay, which failed
/// with "Column 'currency' is declared as non-nullable but contains null values").
#[test]
fn a_lookup_over_a_source_with_an_unread_required_column_ingests() {
    let mut rt = runtime_over("k: int64? f: float64? currency: string", Options::default());
    rt.ingest("taps", &taps(&[(S, 1, Some(5))])).expect("taps");
    // The batch has no `currency`: no feature reads it.
    rt.ingest("events", &events(&[2 * S])).expect("events");
    rt.ingest("taps", &taps(&[(13 * S, 1, Some(100))]))
        .expect("taps past the event");
    assert_eq!(rt.held_rows(), 0);
    assert_eq!(read(&rt, 20 * S), (Value::Int64(5), Value::Int64(1)));
}
