//! The reference interpreter's errors are values naming the table, row and column:
//! a null in a non-null column, a missing column, a column of the wrong type, a
//! source without data, an integer sum that overflows, and an empty spine.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, StringArray, TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc::ir::Project;
use featc::SourceFile;
use featc_runtime::reference::{evaluate, ReferenceError, SpineInput};

const PROJECT: &str = "
source pay {
    time ts
    columns { user: int64  amount: int64?  note: string? }
}
entity user { key user: int64 }
view spend from pay by user {
    feature total = sum(amount)
}
";

fn project() -> Project {
    featc::compile(&[SourceFile {
        name: "p.feat".into(),
        text: PROJECT.into(),
    }])
    .unwrap_or_else(|d| panic!("{d:?}"))
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .expect("batch")
}

/// Times in nanoseconds without a zone: the reader converts them (floored).
fn times(ns: &[i64]) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from(ns.to_vec()))
}

fn spine() -> RecordBatch {
    batch(vec![
        ("user", Arc::new(Int64Array::from(vec![1, 2]))),
        ("ts", times(&[10_000, 10_000])),
    ])
}

fn run(events: Vec<RecordBatch>) -> Result<RecordBatch, ReferenceError> {
    let p = project();
    let sources = HashMap::from([("pay".to_string(), events)]);
    let spine = [spine()];
    evaluate(
        &p,
        &p.all_features(),
        &sources,
        SpineInput {
            batches: &spine,
            time_column: "ts",
        },
    )
}

#[test]
fn a_null_in_a_non_null_column_names_source_row_and_column() {
    let first = batch(vec![
        ("ts", times(&[0])),
        ("user", Arc::new(Int64Array::from(vec![Some(1)]))),
        ("amount", Arc::new(Int64Array::from(vec![Some(3)]))),
    ]);
    let second = batch(vec![
        ("ts", times(&[0, 1])),
        ("user", Arc::new(Int64Array::from(vec![Some(1), None]))),
        ("amount", Arc::new(Int64Array::from(vec![Some(3), None]))),
    ]);
    let err = run(vec![first, second]).unwrap_err();
    assert_eq!(
        err,
        ReferenceError::NullInColumn {
            table: "pay".into(),
            column: "user".into(),
            row: 2
        }
    );
}

#[test]
fn missing_and_mistyped_columns_and_missing_sources() {
    let no_amount = batch(vec![
        ("ts", times(&[0])),
        ("user", Arc::new(Int64Array::from(vec![1]))),
    ]);
    assert_eq!(
        run(vec![no_amount]).unwrap_err(),
        ReferenceError::MissingColumn {
            table: "pay".into(),
            column: "amount".into()
        }
    );
    let float_amount = batch(vec![
        ("ts", times(&[0])),
        ("user", Arc::new(Int64Array::from(vec![1]))),
        ("amount", Arc::new(Float64Array::from(vec![1.5]))),
    ]);
    assert!(matches!(
        run(vec![float_amount]).unwrap_err(),
        ReferenceError::BadColumnType { table, column, .. } if table == "pay" && column == "amount"
    ));
    let p = project();
    let spine = [spine()];
    let err = evaluate(
        &p,
        &p.all_features(),
        &HashMap::new(),
        SpineInput {
            batches: &spine,
            time_column: "ts",
        },
    );
    assert_eq!(
        err.unwrap_err(),
        ReferenceError::MissingSource {
            source: "pay".into()
        }
    );
    let sources = HashMap::from([("pay".to_string(), vec![])]);
    let err = evaluate(
        &p,
        &p.all_features(),
        &sources,
        SpineInput {
            batches: &[],
            time_column: "ts",
        },
    );
    assert_eq!(err.unwrap_err(), ReferenceError::EmptySpine);
}

#[test]
fn an_integer_sum_that_overflows_names_the_feature_and_spine_row() {
    let events = batch(vec![
        ("ts", times(&[0, 1, 2])),
        ("user", Arc::new(Int64Array::from(vec![2, 2, 1]))),
        ("amount", Arc::new(Int64Array::from(vec![i64::MAX, 1, 5]))),
        ("note", Arc::new(StringArray::from(vec![None::<&str>; 3]))),
    ]);
    let err = run(vec![events]).unwrap_err();
    assert!(
        matches!(
            err,
            ReferenceError::Aggregate { ref feature, spine_row: 1, .. } if feature == "total"
        ),
        "{err}"
    );
}

#[test]
fn nanoseconds_are_floored_and_unknown_users_get_the_empty_sum() {
    // 10_999 ns is 10 µs, still at or before the spine's 10 µs; -1 ns is -1 µs.
    let events = batch(vec![
        ("ts", times(&[10_999, -1, 11_000])),
        ("user", Arc::new(Int64Array::from(vec![1, 1, 1]))),
        (
            "amount",
            Arc::new(Int64Array::from(vec![Some(2), Some(3), Some(100)])),
        ),
    ]);
    let out = run(vec![events]).expect("evaluates");
    assert_eq!(out.num_columns(), 3);
    let total = out
        .column(2)
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("int64");
    assert_eq!(total.iter().collect::<Vec<_>>(), vec![Some(5), Some(0)]);
    assert_eq!(
        out.schema().field(1).data_type(),
        &DataType::Timestamp(TimeUnit::Nanosecond, None)
    );
}
