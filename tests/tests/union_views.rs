//! Views over several sources (semantics.md, "Views over several sources"): the
//! union's values by hand on every path (reference, batch, stream, disk tier), and
//! the stream's promise when one source runs far ahead of the other.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc::SourceFile;
use featc_runtime::stream::{Keys, Read, Selection, StreamRuntime};
use featc_runtime::value::Value;

use super::equivalence::{agreed_int_columns, check, hand_case};

pub(crate) const S: i64 = 1_000_000;

/// `taps`' events: (time, key, i).
pub(crate) fn taps(rows: &[(i64, i64, Option<i64>)]) -> RecordBatch {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("at", ts, false),
        Field::new("k", DataType::Int64, true),
        Field::new("i", DataType::Int64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| Some(r.1)).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema, columns).expect("taps")
}

pub(crate) const TAPS: &str =
    "source taps { time at lateness 10s columns { k: int64? i: int64? } }\n";

#[test]
fn a_view_over_two_sources_counts_each_event_once_on_every_path() {
    let mut case = hand_case(
        "    feature n = count(*) over 2s\n\
         \x20   feature taps_n = count_if(source() = 'taps') over 2s\n\
         \x20   feature sum2 = sum(i) over 2 events\n\
         \x20   feature f_seen = count(f)\n\
         \x20   feature ts_seen = count(ts)\n\
         \x20   feature at_seen = count(at)\n\
         \x20   feature big_events = count(*) where i > 4 and source() = 'events'\n",
        &[(S, Some(5), Some(1.5)), (3 * S, Some(4), None)],
        &[0, S, 2 * S, 3 * S, 4 * S, 5 * S],
    );
    case.feat = format!(
        "{TAPS}{}",
        case.feat
            .replace("view v from events by", "view v from events, taps by")
    );
    case.taps = taps(&[(S, 1, Some(9)), (S, 1, Some(1)), (3 * S, 1, None)]);
    let col = agreed_int_columns(&case);
    assert_eq!(col("n"), vec![0, 3, 3, 2, 2, 0]);
    assert_eq!(col("taps_n"), vec![0, 2, 2, 1, 1, 0]);
    // At 1s the two latest of 5, 9 and 1 (one time: by value) are 9 and 5; at 3s
    // they are 4 and the null (which sorts first), whatever source each came from.
    assert_eq!(col("sum2"), vec![0, 14, 14, 4, 4, 4]);
    // `f` and `ts` are events' alone, `at` taps': null for the other's events.
    assert_eq!(col("f_seen"), vec![0, 1, 1, 1, 1, 1]);
    assert_eq!(col("ts_seen"), vec![0, 1, 1, 2, 2, 2]);
    assert_eq!(col("at_seen"), vec![0, 2, 2, 3, 3, 3]);
    assert_eq!(col("big_events"), vec![0, 1, 1, 1, 1, 1]);
}

/// An expression failing on one source's event names that source on every path
/// (semantics.md, "Errors while computing": the earliest event, then the source).
#[test]
fn an_overflow_on_a_second_sources_event_names_that_source_on_every_path() {
    let mut case = hand_case(
        "    feature big = sum(case when source() = 'taps' then i * 4611686018427387904 else 0 end) over 1d\n",
        &[(S, Some(5), None), (3 * S, Some(4), None)],
        &[0, 4 * S],
    );
    case.feat = format!(
        "{TAPS}{}",
        case.feat
            .replace("view v from events by", "view v from events, taps by")
    );
    case.taps = taps(&[(2 * S, 1, Some(4))]);
    // Every path fails alike (`check` compares them with the reference's failure).
    check(&case).unwrap_or_else(|d| panic!("{d}"));
    let project = featc::compile(&[SourceFile {
        name: "gen.feat".into(),
        text: case.feat.clone(),
    }])
    .expect("compiles");
    let error = super::equivalence::reference(&project, &project.all_features(), &case)
        .expect_err("overflows");
    assert!(format!("{error:?}").contains("taps"), "{error:?}");
}

/// One source far ahead does not make the other's events late, nor lets the view's
/// state drop what the other source's reads still need: the view's horizon is the
/// least of its sources'.
#[test]
fn a_source_far_ahead_neither_makes_the_other_late_nor_drops_its_window() {
    let feat = format!(
        "source events {{ time ts columns {{ k: int64? f: float64? }} }}\n{TAPS}\
         entity user {{ key k: int64 }}\n\
         view v from events, taps by user {{\n    feature n = count(*) over 3s\n}}\n"
    );
    let files = [SourceFile {
        name: "union.feat".into(),
        text: feat,
    }];
    let project = featc::compile(&files).expect("compiles");
    let ids = project.all_features();
    let graph = featc::lower::stream::lower_stream(&project, &ids).expect("graph");
    let mut rt = StreamRuntime::new(graph).expect("runtime");
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let events = |times: &[i64]| {
        let schema = Arc::new(Schema::new(vec![
            Field::new("ts", ts.clone(), false),
            Field::new("k", DataType::Int64, true),
            Field::new("f", DataType::Float64, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMicrosecondArray::from(times.to_vec()).with_timezone("UTC")),
            Arc::new(Int64Array::from(vec![Some(1); times.len()])),
            Arc::new(Float64Array::from(vec![None; times.len()])),
        ];
        RecordBatch::try_new(schema, columns).expect("events")
    };
    let read = |rt: &StreamRuntime, t: i64| {
        let key = [Value::Int64(1)];
        let read = Read::new(Keys::Entity(&key), Selection::All, t);
        rt.read(&read).map(|v| v.features[0].value.clone())
    };
    rt.ingest("events", &events(&[S, 2 * S])).expect("events");
    rt.ingest("events", &events(&[100 * S]))
        .expect("events far ahead");
    // Events' own promise is now 100s: alone, its windows before 97s would be gone.
    rt.ingest("events", &events(&[101 * S]))
        .expect("events far ahead");
    // Taps has no watermark yet: nothing is promised, so an early read is answered.
    rt.ingest("taps", &taps(&[(2 * S, 1, None)])).expect("taps");
    assert_eq!(read(&rt, 3 * S).expect("read"), Value::Int64(3));
    // Promised now: events' 100s, taps' 2s - 10s of lateness; the least holds.
    rt.ingest("taps", &taps(&[(50 * S, 1, None)]))
        .expect("taps later");
    assert_eq!(read(&rt, 3 * S).expect("read"), Value::Int64(3));
    assert_eq!(rt.late_events(), 0);
    // Compacting promises each source's watermark (events' 100s, taps' 40s): reads
    // before the least are refused, not answered from a state that dropped events.
    rt.compact().expect("compact");
    assert!(read(&rt, 3 * S).is_err());
    assert_eq!(read(&rt, 51 * S).expect("read"), Value::Int64(1));
    assert_eq!(read(&rt, 101 * S).expect("read"), Value::Int64(2));
}
