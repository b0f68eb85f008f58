//! A float64 entity key on every path: every NaN is one key whatever its sign or
//! payload, `-0.0` and `+0.0` are two keys, and a null key names no entity (the
//! reference keys a float by its canonical bits, `reference::value::key_of`; the
//! stream by `Value::canonical`). The batch path sorts, hash-partitions and cuts its
//! passes by the key columns' bits, so a negative NaN (bits 0xFFF8000000000000, kept
//! by a Parquet file as written) and a positive one would be two entities there
//! unless its key columns are made canonical first.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::stream::StreamRuntime;
use featc_runtime::value::Value;
use featc_test_support::compare::bit_equal;
use featc_test_support::gen::GenCase;
use featc_test_support::hand_case::hand_case;

use super::equivalence::{assert_online_read, batch, check, compile, reference, through_parquet};

const HOUR: i64 = 3_600_000_000;

/// The negative quiet NaN.
const NEG_NAN: u64 = 0xFFF8_0000_0000_0000;
/// A positive NaN with a payload.
const ODD_NAN: u64 = 0x7FF8_0000_0000_0001;

fn bits(b: u64) -> Option<f64> {
    Some(f64::from_bits(b))
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn times(rows: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(rows.collect::<Vec<_>>()).with_timezone("UTC"))
}

/// A ping: (time, spot, v).
type Ping = (i64, Option<f64>, Option<f64>);

fn pings(rows: &[Ping]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("ts", ts_type(), false),
        Field::new("spot", DataType::Float64, true),
        Field::new("v", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        times(rows.iter().map(|r| r.0)),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema, columns).expect("pings")
}

/// A spine of the float key `spot` and the time.
fn spine(rows: &[(Option<f64>, i64)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("spot", DataType::Float64, true),
        Field::new("ts", ts_type(), false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        )),
        times(rows.iter().map(|r| r.1)),
    ];
    RecordBatch::try_new(schema, columns).expect("a spine")
}

/// Each value a power of two, so a sum names the events it holds.
fn rows() -> Vec<Ping> {
    vec![
        (HOUR, bits(NEG_NAN), Some(1.0)),
        (HOUR, Some(f64::NAN), Some(2.0)),
        (HOUR, bits(NEG_NAN), Some(4.0)),
        (HOUR, Some(-0.0), Some(8.0)),
        (HOUR, Some(0.0), Some(16.0)),
        (HOUR, Some(1.5), Some(32.0)),
        (HOUR, None, Some(64.0)),
        (2 * HOUR, bits(ODD_NAN), Some(128.0)),
    ]
}

/// Spine rows of every key, in an order no sort gives back; the last rows are at
/// `2 * HOUR`, after every event (the online reads read those).
fn spine_rows() -> Vec<(Option<f64>, i64)> {
    vec![
        (Some(f64::NAN), HOUR),
        (Some(0.0), 2 * HOUR),
        (bits(NEG_NAN), 2 * HOUR),
        (Some(1.5), 2 * HOUR),
        (None, 2 * HOUR),
        (Some(-0.0), 2 * HOUR),
        (Some(2.0), 2 * HOUR),
        (bits(ODD_NAN), 2 * HOUR),
        (Some(f64::NAN), 2 * HOUR),
    ]
}

const FEATURES: &[&str] = &["n", "total", "last_v"];

fn case() -> GenCase {
    let feat =
        std::fs::read_to_string(featc_test_support::paths::fixtures_dir().join("float_keys.feat"))
            .expect("the float_keys fixture");
    let events = through_parquet(&pings(&rows()), "pings");
    let spine = through_parquet(&spine(&spine_rows()), "spine");
    hand_case(feat, events, spine, FEATURES, 1)
}

#[test]
fn the_files_keep_the_negative_nan() {
    let events = through_parquet(&pings(&rows()), "pings");
    let spot = events.column(1).as_primitive::<Float64Type>();
    assert_eq!(spot.value(0).to_bits(), NEG_NAN);
    let spine = through_parquet(&spine(&spine_rows()), "spine");
    let spot = spine.column(0).as_primitive::<Float64Type>();
    assert_eq!(spot.value(2).to_bits(), NEG_NAN);
}

#[test]
fn every_nan_is_one_key_and_the_zeros_two_on_every_path() {
    let case = case();
    let (project, ids) = compile(&case).expect("compiles");
    let out = reference(&project, &ids, &case).expect("reference");
    let ints = |name: &str| -> Vec<i64> {
        let c = out.column_by_name(name).expect("column");
        c.as_primitive::<Int64Type>().values().to_vec()
    };
    let floats = |name: &str| -> Vec<Option<f64>> {
        let c = out.column_by_name(name).expect("column");
        c.as_primitive::<Float64Type>().iter().collect()
    };
    // The reference, by semantics.md: the NaNs' events are one entity's (3 at 1h, 4
    // at 2h); -0.0 and +0.0 each have their own event; 2.0 and the null key none
    // (an empty sum is 0).
    assert_eq!(ints("n"), [3, 1, 4, 1, 0, 1, 0, 4, 4]);
    let total = floats("total");
    assert_eq!(
        total,
        [
            Some(7.0),
            Some(16.0),
            Some(135.0),
            Some(32.0),
            Some(0.0),
            Some(8.0),
            Some(0.0),
            Some(135.0),
            Some(135.0)
        ]
    );
    // The spine's own key column is the spine's, bits and all.
    let spot = out.column_by_name("spot").expect("the spine's key");
    let spot = spot.as_primitive::<Float64Type>();
    assert_eq!(spot.value(2).to_bits(), NEG_NAN);
    assert_eq!(spot.value(7).to_bits(), ODD_NAN);
    assert_eq!(spot.value(5).to_bits(), (-0.0f64).to_bits());
    // Reference = batch (sizes 2, 7, default) = stream = stream on a disk tier.
    check(&case).unwrap_or_else(|d| panic!("{d}"));
    // More batch sizes: 1 to 4 partitions and 1 to 3 passes (support::batch::config).
    for size in 1..=12 {
        let actual = batch(&project, &ids, &case, size)
            .unwrap_or_else(|e| panic!("batch (size {size}): {e}"));
        bit_equal(&actual, &out).unwrap_or_else(|d| panic!("batch (size {size}): {d}"));
    }
}

/// Online reads of each key after every event give the reference's values at that
/// time, a negative NaN's key reading the positive NaN's entity.
#[test]
fn online_reads_key_every_nan_as_one_entity() {
    let case = case();
    let (project, ids) = compile(&case).expect("compiles");
    let expected = reference(&project, &ids, &case).expect("reference");
    let graph = featc::lower::stream::lower_stream(&project, &ids).expect("a stream graph");
    let mut rt = StreamRuntime::new(graph).expect("a runtime");
    rt.ingest("pings", &case.events).expect("ingest");
    for (row, &(spot, at)) in spine_rows().iter().enumerate() {
        let Some(spot) = spot.filter(|_| at == 2 * HOUR) else {
            continue;
        };
        let key = [Value::Float64(spot)];
        let what = format!("spot {:#x}", spot.to_bits());
        assert_online_read(&rt, &project, &expected, row, &key, at, FEATURES, &what);
    }
}

/// The `datafusion` dialect's SQL, run by DataFusion, agrees too.
#[test]
fn the_datafusion_sql_agrees_with_the_reference() {
    super::sql_equivalence::check(&case()).unwrap_or_else(|d| panic!("{d}"));
}
