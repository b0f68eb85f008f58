//! `in` lists whose items are not constants, on every path: an item that is a column,
//! an `if` (a `case`) or a `coalesce` is evaluated on each row, and every item is
//! evaluated even after one matched (semantics.md, "Row transforms"), so an item that
//! overflows is an error. DataFusion's `InList` takes a list for constants when it
//! evaluates on an empty batch to single values, which a `case` does whatever its
//! rows would give, and stops at the first match: featc lowers such lists to their
//! definition, comparisons joined by `or` (`and` for `not in`).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc_test_support::gen::GenCase;
use featc_test_support::hand_case::hand_case;

use super::equivalence::{check, compile, reference};

const HOUR: i64 = 3_600_000_000;

/// A move: (time, player, x, y, flag).
type Move = (i64, i64, i64, Option<i64>, Option<bool>);

fn moves(rows: &[Move]) -> RecordBatch {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", ts, false),
        Field::new("player_id", DataType::Int64, false),
        Field::new("x", DataType::Int64, false),
        Field::new("y", DataType::Int64, true),
        Field::new("flag", DataType::Boolean, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema, columns).expect("moves")
}

fn spine(rows: &[(i64, i64)]) -> RecordBatch {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("player_id", DataType::Int64, true),
        Field::new("ts", ts, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        )),
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.1).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
    ];
    RecordBatch::try_new(schema, columns).expect("spine")
}

fn case(events: &[Move], features: &[&str]) -> GenCase {
    let feat =
        std::fs::read_to_string(featc_test_support::paths::fixtures_dir().join("in_lists.feat"))
            .expect("the in_lists fixture");
    let spine = spine(&[(1, HOUR), (1, 2 * HOUR), (1, 3 * HOUR), (2, 3 * HOUR)]);
    hand_case(feat, moves(events), spine, features, 1)
}

/// Rows where an `if` item's value depends on the row: a `case` taken for a constant
/// would compare every row with one value.
const MOVES: &[Move] = &[
    (HOUR, 1, 1, Some(5), Some(true)),       // if(flag, 1, y) = 1 = x
    (HOUR, 1, 5, Some(5), Some(false)),      // if(...) = y = 5 = x
    (2 * HOUR, 1, 9, Some(5), Some(false)),  // 5, not 9
    (2 * HOUR, 1, 7, None, None),            // if(null, 1, y) = y = null; coalesce(y, 7) = 7 = x
    (3 * HOUR, 1, 100, Some(1), Some(true)), // 100 is in every list
    (3 * HOUR, 2, 3, Some(3), None),         // y = 3 = x, flag null
];

#[test]
fn in_lists_with_items_that_vary_by_row_agree_on_every_path() {
    let features = [
        "x_is_y",
        "x_is_picked",
        "x_is_coalesced",
        "x_not_picked",
        "last_in",
    ];
    let case = case(MOVES, &features);
    check(&case).unwrap_or_else(|d| panic!("{d}"));
    let (project, ids) = compile(&case).expect("compiles");
    let out = reference(&project, &ids, &case).expect("reference");
    let ints = |name: &str| -> Vec<i64> {
        let c = out.column_by_name(name).expect("column");
        datafusion::arrow::array::AsArray::as_primitive::<datafusion::arrow::datatypes::Int64Type>(
            c.as_ref(),
        )
        .values()
        .to_vec()
    };
    // Spine: player 1 at 1h, 2h, 3h; player 2 at 3h (windows of 1d, events at t
    // included).
    assert_eq!(ints("x_is_y"), [1, 1, 2, 1]);
    assert_eq!(ints("x_is_picked"), [2, 2, 3, 1]);
    assert_eq!(ints("x_is_coalesced"), [1, 2, 3, 1]);
    // `not in` with a null item is null (not counted) unless an item matched.
    assert_eq!(ints("x_not_picked"), [0, 1, 1, 0]);
}

#[test]
fn an_item_after_a_match_is_still_evaluated_so_its_overflow_is_an_error() {
    let rows: &[Move] = &[(HOUR, 1, 4, Some(i64::MAX), Some(true))];
    let case = case(rows, &["overflow_after"]);
    let (project, ids) = compile(&case).expect("compiles");
    let err = reference(&project, &ids, &case).expect_err("y * 2 overflows");
    assert!(err.to_string().contains("overflow"), "{err}");
    // Every other path fails the same way (the batch plan's `InList` would stop at
    // `x`, which matched, and never compute `y * 2`).
    check(&case).unwrap_or_else(|d| panic!("{d}"));
}
