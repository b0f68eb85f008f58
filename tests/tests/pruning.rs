//! Events no spine row reads (of a key the spine never names, or later than their
//! key's last spine row) are dropped before the batch path's sort
//! (`batch::prune_exec`): exactly those, for a group with one integer key (the packed
//! sort key) and one with a string key (keys in the row format), and the training set
//! is the same on every path. The generated cases of `equivalence` run through the
//! same plan; this test counts what it drops.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc_test_support::gen::{taps_batch, GenCase, ReplaySettings};

use crate::equivalence::{batch_with_plan, check, compile, hand_events_schema, DEFAULT_BATCH_SIZE};

const S: i64 = 1_000_000;

/// (time in seconds, user key, shop key) of each event.
type Event = (i64, Option<i64>, Option<&'static str>);

const EVENTS: &[Event] = &[
    (1, Some(1), Some("a")),
    (2, Some(1), Some("b")),
    (3, Some(1), Some("a")),
    (6, Some(1), Some("a")),
    (8, Some(1), None),
    (1, Some(2), Some("c")),
    (4, Some(2), Some("b")),
    (9, Some(2), Some("b")),
    (2, Some(3), Some("a")),
    (5, Some(3), Some("d")),
    (3, None, Some("a")),
    // Exactly at a spine row's time: read.
    (5, Some(1), Some("b")),
];

/// (time in seconds, user key, shop key) of each spine row.
const SPINE: &[Event] = &[
    (5, Some(1), Some("a")),
    (10, Some(2), Some("z")),
    (4, Some(9), Some("b")),
    (2, Some(1), None),
    (7, None, Some("a")),
];

fn case() -> GenCase {
    let feat = "source events { time ts columns { k: int64? sk: string? i: int64? f: float64? s: string? b: bool? } }\n\
        entity user { key k: int64 }\n\
        entity shop { key sk: string }\n\
        view by_user from events by user {\n    feature user_count_1h = count(*) over 1h\n    feature user_last_i = last(i)\n}\n\
        view by_shop from events by shop {\n    feature shop_count_1h = count(*) over 1h\n    feature shop_sum_i = sum(i)\n}\n"
        .to_string();
    let ts_type = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let n = EVENTS.len();
    let schema = hand_events_schema();
    let times = |rows: &[Event]| -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|e| e.0 * S).collect::<Vec<_>>())
                .with_timezone("UTC"),
        )
    };
    let users = |rows: &[Event]| -> ArrayRef {
        Arc::new(Int64Array::from(
            rows.iter().map(|e| e.1).collect::<Vec<_>>(),
        ))
    };
    let shops = |rows: &[Event]| -> ArrayRef {
        Arc::new(StringArray::from(
            rows.iter().map(|e| e.2).collect::<Vec<_>>(),
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        times(EVENTS),
        users(EVENTS),
        shops(EVENTS),
        Arc::new(Int64Array::from((0..n as i64).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(vec![None::<f64>; n])),
        Arc::new(StringArray::from(vec![None::<&str>; n])),
        Arc::new(BooleanArray::from(vec![None; n])),
    ];
    let events = RecordBatch::try_new(schema, columns).expect("events");
    let spine_schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, true),
        Field::new("sk", DataType::Utf8, true),
        Field::new("ts", ts_type, false),
    ]));
    let spine = RecordBatch::try_new(spine_schema, vec![users(SPINE), shops(SPINE), times(SPINE)])
        .expect("spine");
    GenCase {
        feat,
        clicks: events.slice(0, 0),
        taps: taps_batch(&events.slice(0, 0)),
        events,
        spine,
        features: [
            "user_count_1h",
            "user_last_i",
            "shop_count_1h",
            "shop_sum_i",
        ]
        .map(String::from)
        .to_vec(),
        lateness_us: 0,
        replay: ReplaySettings {
            disorder_us: 0,
            batch_size: 1,
            seed: 0,
            fold_run: 1,
        },
    }
}

/// Events with a key no spine row reads at or after their time, by the key `key`
/// picks (a null key is never dropped: the merge counts it).
fn unread<K: PartialEq>(key: impl Fn(&Event) -> Option<K>) -> usize {
    EVENTS
        .iter()
        .filter(|e| {
            key(e).is_some_and(|k| {
                !SPINE
                    .iter()
                    .any(|s| key(s).as_ref() == Some(&k) && s.0 >= e.0)
            })
        })
        .count()
}

#[test]
fn events_no_spine_row_reads_are_dropped_before_the_sort() {
    let case = case();
    // Users: 6s and 8s of user 1 (its last row is at 5s), both of user 3. Shops:
    // `c` and `d` (no row), `b` at 5s and 9s (its row is at 4s); every `a` is read
    // (its row is at 7s).
    assert_eq!((unread(|e| e.1), unread(|e| e.2)), (4, 4));
    let expected = 8;
    let (project, ids) = compile(&case).expect("compiles");
    for size in [2, 7, DEFAULT_BATCH_SIZE] {
        let (plan, _) = batch_with_plan(&project, &ids, &case, size).expect("runs");
        assert_eq!(
            featc_runtime::batch::pruned_events(&plan),
            expected,
            "batch size {size}"
        );
    }
    // And the values are every path's.
    if let Err(diff) = check(&case) {
        panic!("{diff}");
    }
}
