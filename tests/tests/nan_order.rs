//! NaNs of either sign on every path (semantics.md: comparisons follow SQL, NaN equals
//! itself and is above every other float, +inf included; min/max order NaN above
//! +inf; `count_distinct` counts every NaN as one value). A negative NaN (bits
//! 0xFFF8000000000000) comes from a Parquet file as it was written, and `a - b` makes
//! one where a = b = +inf (x86's default NaN is negative). Arrow's float kernels order
//! by `f64::total_cmp`, which puts a negative NaN below -inf and apart from a positive
//! one: featc's comparisons must not.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::stream::StreamRuntime;
use featc_runtime::value::Value;
use featc_test_support::gen::GenCase;
use featc_test_support::hand_case::{hand_case, key_spine};

use super::equivalence::{assert_online_read, check, compile, reference, through_parquet};

const HOUR: i64 = 3_600_000_000;

/// The negative quiet NaN: a file may hold it, and x86 computes it for `inf - inf`.
fn negative_nan() -> f64 {
    f64::from_bits(0xFFF8_0000_0000_0000)
}

/// A reading: (time, sensor, x, y, a, b).
type Reading = (i64, i64, Option<f64>, Option<f64>, Option<f64>, Option<f64>);

fn readings(rows: &[Reading]) -> RecordBatch {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", ts, false),
        Field::new("sensor_id", DataType::Int64, false),
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
        Field::new("a", DataType::Float64, true),
        Field::new("b", DataType::Float64, true),
    ]));
    let floats = |f: fn(&Reading) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )),
        floats(|r| r.2),
        floats(|r| r.3),
        floats(|r| r.4),
        floats(|r| r.5),
    ];
    RecordBatch::try_new(schema, columns).expect("readings")
}

const INF: f64 = f64::INFINITY;

/// Sensor 1 holds NaNs of both signs; sensor 2 the signed zeros, for contrast.
fn rows() -> Vec<Reading> {
    let (nan, neg) = (f64::NAN, negative_nan());
    vec![
        // x a negative NaN, y a positive one; d = inf - inf.
        (HOUR, 1, Some(neg), Some(nan), Some(INF), Some(INF)),
        // x a positive NaN, y a negative one; d = -inf - -inf.
        (HOUR, 1, Some(nan), Some(neg), Some(-INF), Some(-INF)),
        (HOUR, 1, Some(-INF), Some(0.0), Some(1.0), Some(2.0)),
        (HOUR, 1, Some(2.5), None, Some(3.0), Some(1.0)),
        // Later, last(a) = last(b) = +inf, so the derived gap is inf - inf.
        (2 * HOUR, 1, Some(neg), Some(neg), Some(INF), Some(INF)),
        (HOUR, 2, Some(-0.0), Some(0.0), Some(1.0), Some(1.0)),
    ]
}

const FEATURES: &[&str] = &[
    "x_pos",
    "x_very_neg",
    "x_above_a",
    "x_is_y",
    "x_isnt_y",
    "x_at_most_y",
    "x_in",
    "x_not_in",
    "d_pos",
    "d_very_neg",
    "d_is_x",
    "x_min",
    "x_max",
    "d_min",
    "d_max",
    "x_distinct",
    "d_distinct",
    "x_least",
    "x_greatest",
    "x_nullif",
    "d_nullif",
    "last_d",
    "pos_a",
    "pos_d",
    "gap",
    "gap_pos",
    "gap_very_neg",
    "gap_in",
    "gap_least",
    "positives",
];

/// The spine: sensor 1 after its first hour's events and after the last one; sensor 2.
const SPINE: &[(i64, i64)] = &[(1, HOUR), (1, 2 * HOUR), (2, 2 * HOUR)];

fn case() -> GenCase {
    let feat =
        std::fs::read_to_string(featc_test_support::paths::fixtures_dir().join("nan_order.feat"))
            .expect("the nan_order fixture");
    let events = through_parquet(&readings(&rows()), "readings");
    hand_case(feat, events, key_spine("sensor_id", SPINE), FEATURES, 1)
}

#[test]
fn the_file_keeps_the_negative_nan() {
    let events = through_parquet(&readings(&rows()), "readings");
    let x = datafusion::arrow::array::AsArray::as_primitive::<
        datafusion::arrow::datatypes::Float64Type,
    >(events.column(2).as_ref());
    assert_eq!(x.value(0).to_bits(), 0xFFF8_0000_0000_0000);
}

#[test]
fn every_nan_is_one_value_above_inf_on_every_path() {
    let case = case();
    let (project, ids) = compile(&case).expect("compiles");
    let out = reference(&project, &ids, &case).expect("reference");
    let ints = |name: &str| -> Vec<i64> {
        let c = out.column_by_name(name).expect("column");
        datafusion::arrow::array::AsArray::as_primitive::<Int64Type>(c.as_ref())
            .values()
            .to_vec()
    };
    // The reference, by semantics.md (spine: sensor 1 at 1h, 2h; sensor 2 at 2h).
    // x > 0: both NaNs and 2.5 (and at 2h the later negative NaN).
    assert_eq!(ints("x_pos"), [3, 4, 0]);
    // x < -1e308: only -inf, never a NaN.
    assert_eq!(ints("x_very_neg"), [1, 1, 0]);
    // x > a: NaN > +inf and NaN > -inf; 2.5 < 3.
    assert_eq!(ints("x_above_a"), [2, 3, 0]);
    // x = y: the two NaN rows (either sign), and -0.0 = +0.0.
    assert_eq!(ints("x_is_y"), [2, 3, 1]);
    assert_eq!(ints("x_isnt_y"), [1, 1, 0]);
    assert_eq!(ints("x_at_most_y"), [3, 4, 1]);
    assert_eq!(ints("x_in"), [2, 3, 1]);
    assert_eq!(ints("x_not_in"), [1, 1, 0]);
    // d is NaN on the rows of equal infinities: above 0, never below -1e308, equal to
    // the NaN x (and sensor 2's 1 - 1 = +0.0 equals its -0.0).
    assert_eq!(ints("d_pos"), [3, 4, 0]);
    assert_eq!(ints("d_very_neg"), [0, 0, 0]);
    assert_eq!(ints("d_is_x"), [2, 3, 1]);
    assert_eq!(ints("x_distinct"), [3, 3, 1]);
    assert_eq!(ints("d_distinct"), [3, 3, 1]);
    // greatest(x, 1.0) > 1.0: the NaNs and 2.5.
    assert_eq!(ints("x_greatest"), [3, 4, 0]);
    // nullif(x, y) is null where x = y (both NaNs; -0.0 and +0.0): 2 left of 4.
    assert_eq!(ints("x_nullif"), [2, 2, 0]);
    assert_eq!(ints("pos_a"), [3, 4, 0]);
    assert_eq!(ints("pos_d"), [3, 4, 0]);
    assert_eq!(ints("positives"), [3, 4, 0]);
    check(&case).unwrap_or_else(|d| panic!("{d}"));
}

/// The derived features read online (the scalar program, or the one-row batch it
/// falls back to) give the reference's values, bit for bit.
#[test]
fn derived_features_read_online_agree_with_the_reference() {
    let case = case();
    let (project, ids) = compile(&case).expect("compiles");
    let expected = reference(&project, &ids, &case).expect("reference");
    let graph = featc::lower::stream::lower_stream(&project, &ids).expect("a stream graph");
    let mut rt = StreamRuntime::new(graph).expect("a runtime");
    rt.ingest("readings", &case.events).expect("ingest");
    let derived = ["gap", "gap_pos", "gap_very_neg", "gap_in", "gap_least"];
    for (row, &(sensor, at)) in SPINE.iter().enumerate() {
        let key = [Value::Int64(sensor)];
        let what = format!("sensor {sensor}");
        assert_online_read(&rt, &project, &expected, row, &key, at, &derived, &what);
    }
}

/// The `datafusion` dialect's SQL, run by DataFusion, agrees too: its `<` and `=` are
/// IEEE total order and bits, so the emitter makes NaNs canonical and zeros `+0.0`
/// where floats are compared.
#[test]
fn the_datafusion_sql_agrees_with_the_reference() {
    super::sql_equivalence::check(&case()).unwrap_or_else(|d| panic!("{d}"));
}
