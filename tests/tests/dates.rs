//! Dates (semantics.md, "Dates") by hand on every path: the project of
//! `tests/fixtures/dates.feat` (a date as an aggregated value, in a comparison, in
//! lists and as an entity key) gives the same training set, bit for bit, from the
//! reference, the batch plan (batch sizes 2, 7, default) and streaming replays (in
//! memory and on a disk tier), with the values worked out below; `Date64` events that
//! are whole days read as their `Date32` days, and one with a time of day is refused.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Date64Array, Int64Array, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Int64Type, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::ir::{ListType, Scalar};
use featc_runtime::row::list::{json_text, list_at};
use featc_runtime::value::Value;
use featc_test_support::gen::GenCase;
use featc_test_support::hand_case::hand_case;

use super::equivalence::{batch, check, compile, reference, DEFAULT_BATCH_SIZE};

const DAY: i64 = 86_400_000_000;
/// 2024-02-27, 2024-02-29, 2024-03-01 and 2024-03-08, as days since 1970-01-01.
const FEB_27: i32 = 19_780;
const FEB_29: i32 = 19_782;
const MAR_1: i32 = 19_783;
const MAR_8: i32 = 19_790;

/// A booking: (time, guest, check-in day, booked-on day, nights).
type Booking = (i64, i64, i32, Option<i32>, Option<i64>);

/// Bookings, dates as `Date32`, or as `Date64` milliseconds when `date64`.
fn bookings(rows: &[Booking], date64: bool) -> RecordBatch {
    let dates = |days: Vec<Option<i32>>| -> ArrayRef {
        if date64 {
            let ms = days.iter().map(|d| d.map(|d| i64::from(d) * 86_400_000));
            Arc::new(Date64Array::from(ms.collect::<Vec<_>>()))
        } else {
            Arc::new(Date32Array::from(days))
        }
    };
    let date_type = if date64 {
        DataType::Date64
    } else {
        DataType::Date32
    };
    let ts = DataType::Timestamp(
        datafusion::arrow::datatypes::TimeUnit::Microsecond,
        Some("UTC".into()),
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", ts, false),
        Field::new("guest_id", DataType::Int64, false),
        Field::new("check_in", date_type.clone(), false),
        Field::new("booked_on", date_type, true),
        Field::new("nights", DataType::Int64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )),
        dates(rows.iter().map(|r| Some(r.2)).collect()),
        dates(rows.iter().map(|r| r.3).collect()),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema, columns).expect("bookings")
}

/// The spine: (guest, check-in day, time).
fn spine(rows: &[(i64, i32, i64)]) -> RecordBatch {
    let ts = DataType::Timestamp(
        datafusion::arrow::datatypes::TimeUnit::Microsecond,
        Some("UTC".into()),
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("guest_id", DataType::Int64, true),
        Field::new("check_in", DataType::Date32, true),
        Field::new("ts", ts, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        )),
        Arc::new(Date32Array::from(
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )),
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
    ];
    RecordBatch::try_new(schema, columns).expect("spine")
}

fn case(events: RecordBatch, features: &[&str]) -> GenCase {
    let feat =
        std::fs::read_to_string(featc_test_support::paths::fixtures_dir().join("dates.feat"))
            .expect("the dates fixture");
    let spine = spine(&[
        (1, MAR_1, 0),
        (1, MAR_1, DAY),
        (1, FEB_29, 2 * DAY),
        (2, MAR_1, 5 * DAY),
        (1, MAR_8, 9 * DAY),
        (1, MAR_8, 10 * DAY),
        (3, 7, 10 * DAY),
    ]);
    hand_case(feat, events, spine, features, 1)
}

const EVENTS: &[Booking] = &[
    (DAY, 1, MAR_1, Some(FEB_27), Some(2)),
    (2 * DAY, 1, FEB_29, Some(FEB_29), Some(1)),
    (2 * DAY, 2, MAR_1, None, Some(3)),
    (10 * DAY, 1, MAR_8, Some(MAR_1), None),
];

const FEATURES: &[&str] = &[
    "first_check_in",
    "last_check_in_7d",
    "latest_booking",
    "first_booking",
    "check_in_days_7d",
    "booked_count",
    "recent_bookings",
    "early_bookings_7d",
    "arrivals",
    "nights_booked",
    "booked_days",
    "last_known_booking",
];

fn days(out: &RecordBatch, name: &str) -> Vec<Option<i32>> {
    let c = out.column_by_name(name).expect("column");
    assert_eq!(c.data_type(), &DataType::Date32, "{name}");
    c.as_primitive::<Date32Type>().iter().collect()
}

fn ints(out: &RecordBatch, name: &str) -> Vec<i64> {
    let c = out.column_by_name(name).expect("column");
    c.as_primitive::<Int64Type>().values().to_vec()
}

/// A list column's cells as their JSON text (dates as `"YYYY-MM-DD"`).
fn lists(out: &RecordBatch, name: &str, counted: bool) -> Vec<String> {
    let c = out.column_by_name(name).expect("column");
    let ty = ListType {
        item: Scalar::Date,
        counted,
    };
    (0..c.len())
        .map(
            |r| match list_at(c.as_ref(), ty, r).expect("a list of dates") {
                Value::List(l) => json_text(&l),
                other => format!("{other:?}"),
            },
        )
        .collect()
}

#[test]
fn dates_as_values_and_keys_agree_on_every_path_with_the_worked_values() {
    for date64 in [false, true] {
        let case = case(bookings(EVENTS, date64), FEATURES);
        check(&case).unwrap_or_else(|d| panic!("Date64 {date64}: {d}"));
        let (project, ids) = compile(&case).expect("compiles");
        let out = reference(&project, &ids, &case).expect("reference");
        // Spine rows: guest 1 at 0, 1d, 2d; guest 2 at 5d; guest 1 at 9d, 10d; an
        // unknown guest and day at 10d. Windows of 7d: at 9d, (2d, 9d] is empty.
        let n = None;
        assert_eq!(
            days(&out, "first_check_in"),
            [
                n,
                Some(MAR_1),
                Some(FEB_29),
                Some(MAR_1),
                Some(FEB_29),
                Some(FEB_29),
                n
            ]
        );
        assert_eq!(
            days(&out, "last_check_in_7d"),
            [n, Some(MAR_1), Some(MAR_1), Some(MAR_1), n, Some(MAR_8), n]
        );
        assert_eq!(
            days(&out, "latest_booking"),
            [n, Some(FEB_27), Some(FEB_29), n, n, Some(MAR_1), n]
        );
        assert_eq!(
            days(&out, "first_booking"),
            [
                n,
                Some(FEB_27),
                Some(FEB_27),
                n,
                Some(FEB_27),
                Some(FEB_27),
                n
            ]
        );
        assert_eq!(ints(&out, "check_in_days_7d"), [0, 1, 2, 1, 0, 1, 0]);
        assert_eq!(ints(&out, "booked_count"), [0, 1, 2, 0, 2, 3, 0]);
        assert_eq!(
            lists(&out, "recent_bookings", false),
            [
                "[]",
                r#"["2024-02-27"]"#,
                r#"["2024-02-29","2024-02-27"]"#,
                "[]",
                r#"["2024-02-29","2024-02-27"]"#,
                r#"["2024-03-01","2024-02-29"]"#,
                "[]"
            ]
        );
        // Booked before the check-in: the first and the last booking (not the
        // same-day one, and not a null booking).
        assert_eq!(ints(&out, "early_bookings_7d"), [0, 1, 1, 0, 0, 1, 0]);
        // By check-in day: Mar 1 (two arrivals, one booking unknown), Feb 29, Mar 8.
        assert_eq!(ints(&out, "arrivals"), [0, 1, 1, 2, 0, 1, 0]);
        assert_eq!(ints(&out, "nights_booked"), [0, 2, 1, 5, 0, 0, 0]);
        assert_eq!(
            lists(&out, "booked_days", true),
            [
                "[]",
                r#"[{"value":"2024-02-27","count":1}]"#,
                r#"[{"value":"2024-02-29","count":1}]"#,
                r#"[{"value":"2024-02-27","count":1}]"#,
                "[]",
                r#"[{"value":"2024-03-01","count":1}]"#,
                "[]"
            ]
        );
        // The later of two date features; `greatest` skips a null one (at 9d).
        assert_eq!(
            days(&out, "last_known_booking"),
            [
                n,
                Some(FEB_27),
                Some(FEB_29),
                n,
                Some(FEB_27),
                Some(MAR_1),
                n
            ]
        );
    }
}

/// A `Date64` with a time of day is not a date: every path refuses it (the
/// reference and the stream name the column), none truncates it to its day.
#[test]
fn a_date64_with_a_time_of_day_is_refused_on_every_path() {
    let mut events = bookings(EVENTS, true);
    let mut columns = events.columns().to_vec();
    columns[3] = Arc::new(Date64Array::from(vec![
        Some(i64::from(FEB_27) * 86_400_000),
        Some(i64::from(FEB_29) * 86_400_000 + 1),
        None,
        None,
    ]));
    events = RecordBatch::try_new(events.schema(), columns).expect("events");
    let case = case(events, &["latest_booking"]);
    let (project, ids) = compile(&case).expect("compiles");
    let error = reference(&project, &ids, &case).expect_err("a time of day");
    assert!(format!("{error}").contains("booked_on"), "{error}");
    let batch = batch(&project, &ids, &case, DEFAULT_BATCH_SIZE).expect_err("refused");
    assert!(format!("{batch}").contains("time of day"), "{batch}");
    let graph = featc::lower::stream::lower_stream(&project, &ids).expect("graph");
    let mut rt = featc_runtime::stream::StreamRuntime::new(graph).expect("runtime");
    let stream = rt.ingest("bookings", &case.events).expect_err("refused");
    assert!(format!("{stream}").contains("booked_on"), "{stream}");
}
