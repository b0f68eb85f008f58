//! The test vectors of a UDF crate: edge-case inputs per spec, with the results
//! featc's own runtime gives for them (its aggregations in `featc_runtime::agg`, its
//! checked arithmetic in `featc_runtime::expr::arith`), computed here, when the
//! crate is generated. The crate's test checks its UDF against them bit for bit.

use std::sync::Arc;

use datafusion::arrow::array::{Array, Int64Array};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs};
use featc_runtime::agg::{
    Aggregation, Avg, CountDistinct, F64Word, First, I64Word, Last, Max, Min, MomentsAgg,
    Percentile, StandardDeviation, SumFloat, SumInt, Variance,
};
use featc_runtime::expr::arith::{udf, ArithOp};
use featc_runtime::ir::DataType;
use featc_runtime::value::Value;

use super::super::udf::{UdfKind, UdfSpec};

/// One call: the argument columns (for first/last: the times, then the values) and
/// what featc gives.
pub struct Case {
    pub name: &'static str,
    pub args: Vec<Vec<Value>>,
    pub expected: Expected,
}

/// featc's result: the result column (one row for an aggregate), or an error.
pub enum Expected {
    Rows(Vec<Value>),
    Error,
}

/// The cases of `spec`, each with featc's result.
pub fn cases(spec: &UdfSpec) -> Vec<Case> {
    let op = match spec.kind {
        UdfKind::CheckedAdd => ArithOp::AddInt,
        UdfKind::CheckedSub => ArithOp::SubInt,
        UdfKind::CheckedMul => ArithOp::MulInt,
        UdfKind::CheckedNeg => ArithOp::NegInt,
        _ => return aggregate_cases(spec),
    };
    scalar_inputs(spec.kind)
        .into_iter()
        .map(|(name, args)| {
            let expected = arith(op, &args);
            Case {
                name,
                args,
                expected,
            }
        })
        .collect()
}

/// An aggregate's cases: (name, times, values), the times only read by first/last.
fn aggregate_cases(spec: &UdfSpec) -> Vec<Case> {
    let by_time = matches!(spec.kind, UdfKind::First | UdfKind::Last);
    let inputs = match (spec.input, by_time) {
        (DataType::Float64, false) => float_values(),
        (DataType::Float64, true) => float_events(),
        (ty, false) => int_values(ty),
        (ty, true) => int_events(ty),
    };
    inputs
        .into_iter()
        .map(|(name, times, values)| {
            let events: Vec<(i64, Value)> = times.iter().copied().zip(values.clone()).collect();
            let expected = match fold_as(spec, &events) {
                Ok(v) => Expected::Rows(vec![v]),
                Err(()) => Expected::Error,
            };
            let args = if by_time {
                vec![times.into_iter().map(Value::Int64).collect(), values]
            } else {
                vec![values]
            };
            Case {
                name,
                args,
                expected,
            }
        })
        .collect()
}

/// Folds `events` with featc's aggregation for `spec`.
fn fold_as(spec: &UdfSpec, events: &[(i64, Value)]) -> Result<Value, ()> {
    let float = spec.input == DataType::Float64;
    match spec.kind {
        UdfKind::Sum if float => fold(&SumFloat, events),
        UdfKind::Sum => fold(&SumInt, events),
        UdfKind::Avg => fold(&Avg, events),
        UdfKind::VarPop => fold(&MomentsAgg(Variance), events),
        UdfKind::StddevPop => fold(&MomentsAgg(StandardDeviation), events),
        UdfKind::Min => fold(&Min::default(), events),
        UdfKind::Max => fold(&Max::default(), events),
        UdfKind::CountDistinct => fold(&CountDistinct, events),
        UdfKind::First => fold(&First::default(), events),
        UdfKind::Last => fold(&Last::default(), events),
        UdfKind::Percentile(q) if float => fold(&Percentile::<F64Word>::new(q), events),
        UdfKind::Percentile(q) => fold(&Percentile::<I64Word>::new(q), events),
        // Scalars are evaluated by `arith`, never folded.
        UdfKind::CheckedAdd | UdfKind::CheckedSub | UdfKind::CheckedMul | UdfKind::CheckedNeg => {
            Err(())
        }
    }
}

fn fold<A: Aggregation>(agg: &A, events: &[(i64, Value)]) -> Result<Value, ()> {
    let mut state = agg.identity();
    for (ts, v) in events {
        agg.insert(&mut state, *ts, v);
    }
    agg.finish(&state).map_err(|_| ())
}

type Inputs = Vec<(&'static str, Vec<i64>, Vec<Value>)>;

/// Values at time 0 (the time is not read).
fn at_zero(cases: Vec<(&'static str, Vec<Value>)>) -> Inputs {
    cases
        .into_iter()
        .map(|(name, vs)| (name, vec![0; vs.len()], vs))
        .collect()
}

fn f(xs: &[f64]) -> Vec<Value> {
    xs.iter().map(|&x| Value::Float64(x)).collect()
}

/// NaNs of other bits than the canonical one (a negative quiet NaN, a signaling NaN).
const NEG_NAN: u64 = 0xFFF8_0000_0000_0001;
const SIGNALING_NAN: u64 = 0x7FF0_0000_0000_0001;

fn float_values() -> Inputs {
    let mut many = vec![0.1; 200];
    many.push(1e16);
    let mut mixed = f(&[3.0, -1.5]);
    mixed.push(Value::Null);
    mixed.extend(f(&[3.0, 2.25, 7.0, -0.0]));
    let mut infinity = f(&[f64::INFINITY, 1.0]);
    infinity.push(Value::Null);
    let mut subnormals = f(&[5e-324, 5e-324, 1e-310, -2.5e-320]);
    subnormals.push(Value::Null);
    at_zero(vec![
        ("empty", vec![]),
        ("all_null", vec![Value::Null, Value::Null]),
        ("signed_zeros", f(&[-0.0, 0.0])),
        ("negative_zeros", f(&[-0.0, -0.0])),
        ("nan", f(&[1.0, f64::NAN, 2.0])),
        (
            "nan_payloads",
            f(&[f64::from_bits(NEG_NAN), 3.0, f64::from_bits(SIGNALING_NAN)]),
        ),
        ("infinity", infinity),
        ("negative_infinity", f(&[f64::NEG_INFINITY, -1.0])),
        ("both_infinities", f(&[f64::INFINITY, f64::NEG_INFINITY])),
        ("cancellation", f(&[1e308, 1e308, -1e308])),
        ("sum_overflows_to_inf", f(&[1.7e308, 1.7e308])),
        ("subnormals", subnormals),
        ("many_small", f(&many)),
        ("tenths", f(&[0.1, 0.2, 0.3])),
        ("mixed", mixed),
        ("wide", f(&[1e200, -1e200, 1e-200])),
        ("tiny_spread", f(&[1e-300, 3e-300, 2e-300])),
        ("random_wide", f(&random_floats(1, 48, wide_float))),
        (
            "random_close",
            f(&random_floats(2, 48, |r| 1e6 + (r % 1000) as f64 / 64.0)),
        ),
    ])
}

/// A deterministic stream of 64-bit words (splitmix64), so the random cases are the
/// same in every generated crate and every run.
fn splitmix(seed: u64) -> impl Iterator<Item = u64> {
    let mut state = seed;
    std::iter::repeat_with(move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

fn random_floats(seed: u64, n: usize, f: impl Fn(u64) -> f64) -> Vec<f64> {
    splitmix(seed).take(n).map(f).collect()
}

/// A finite float of any sign and exponent, subnormals included (random bits with
/// the all-ones exponent of the non-finite values replaced).
fn wide_float(r: u64) -> f64 {
    let x = f64::from_bits(r);
    if x.is_finite() {
        x
    } else {
        f64::from_bits(r & !(1 << 62))
    }
}

/// Int64 or timestamp values of `ty`.
fn ints(ty: DataType, xs: &[Option<i64>]) -> Vec<Value> {
    xs.iter()
        .map(|x| match (x, ty) {
            (None, _) => Value::Null,
            (Some(x), DataType::Timestamp) => Value::Timestamp(*x),
            (Some(x), _) => Value::Int64(*x),
        })
        .collect()
}

fn int_values(ty: DataType) -> Inputs {
    let (max, min) = (Some(i64::MAX), Some(i64::MIN));
    let many: Vec<Option<i64>> = (1..=300).map(|x| Some(x * 7_919 - 1_000_000)).collect();
    at_zero(vec![
        ("empty", vec![]),
        ("all_null", ints(ty, &[None, None])),
        ("extremes", ints(ty, &[max, min])),
        ("max_twice", ints(ty, &[max, max])),
        ("min_minus_one", ints(ty, &[min, Some(-1)])),
        ("back_in_range", ints(ty, &[max, Some(1), Some(-1)])),
        (
            "mixed",
            ints(ty, &[Some(3), Some(-7), None, Some(3), Some(0), Some(12)]),
        ),
        (
            "epoch_micros",
            ints(ty, &[Some(1_700_000_000_000_000), Some(-1), Some(0)]),
        ),
        ("many", ints(ty, &many)),
        (
            "random_full_range",
            ints(ty, &random_ints(3, 48, |r| r as i64)),
        ),
        (
            "random_small",
            ints(ty, &random_ints(4, 48, |r| (r % 2001) as i64 - 1000)),
        ),
    ])
}

fn random_ints(seed: u64, n: usize, f: impl Fn(u64) -> i64) -> Vec<Option<i64>> {
    splitmix(seed).take(n).map(|r| Some(f(r))).collect()
}

fn float_events() -> Inputs {
    let nan_neg = f64::from_bits(NEG_NAN);
    let mut null_latest = vec![Value::Null];
    null_latest.extend(f(&[4.0, 2.0]));
    vec![
        ("empty", vec![], vec![]),
        ("all_null", vec![1, 2], vec![Value::Null, Value::Null]),
        ("distinct_times", vec![3, 1, 2], f(&[30.0, 10.0, 20.0])),
        (
            "tie_on_time",
            vec![5, 5, 5, 1],
            f(&[2.0, nan_neg, -0.0, 9.0]),
        ),
        ("tie_on_first_time", vec![1, 1, 7], f(&[2.0, -0.0, 0.0])),
        ("tie_of_zeros", vec![4, 4], f(&[0.0, -0.0])),
        (
            "tie_with_infinities",
            vec![2, 2, 2],
            f(&[f64::NEG_INFINITY, 1.0, f64::INFINITY]),
        ),
        ("null_latest", vec![9, 1, 3], null_latest),
        (
            "negative_times",
            vec![-5, -10, i64::MIN, i64::MAX],
            f(&[1.0, 2.0, 3.0, 4.0]),
        ),
    ]
}

fn int_events(ty: DataType) -> Inputs {
    let (max, min) = (Some(i64::MAX), Some(i64::MIN));
    vec![
        ("empty", vec![], vec![]),
        ("all_null", vec![1, 2], ints(ty, &[None, None])),
        (
            "distinct_times",
            vec![3, 1, 2],
            ints(ty, &[Some(30), Some(10), Some(20)]),
        ),
        (
            "tie_on_time",
            vec![5, 5, 5, 1],
            ints(ty, &[Some(2), max, min, Some(9)]),
        ),
        (
            "tie_on_first_time",
            vec![1, 1, 7],
            ints(ty, &[Some(2), Some(-3), Some(0)]),
        ),
        (
            "null_latest",
            vec![9, 1, 3],
            ints(ty, &[None, Some(4), Some(2)]),
        ),
        (
            "negative_times",
            vec![-5, -10, i64::MIN, i64::MAX],
            ints(ty, &[Some(1), Some(2), Some(3), Some(4)]),
        ),
    ]
}

/// The rows of a checked operator's cases, as int64 columns.
fn scalar_inputs(kind: UdfKind) -> Vec<(&'static str, Vec<Vec<Value>>)> {
    let (max, min) = (Some(i64::MAX), Some(i64::MIN));
    let col = |xs: &[Option<i64>]| ints(DataType::Int64, xs);
    if kind == UdfKind::CheckedNeg {
        return vec![
            (
                "in_range",
                vec![col(&[Some(5), Some(0), max, Some(-i64::MAX), None])],
            ),
            ("negating_min", vec![col(&[Some(1), min])]),
        ];
    }
    vec![
        (
            "nulls",
            vec![col(&[Some(1), None, None]), col(&[None, Some(2), None])],
        ),
        (
            "in_range",
            vec![
                col(&[Some(2), max, min, Some(-1), Some(3_037_000_499)]),
                col(&[Some(-3), Some(0), Some(1), min, Some(3_037_000_499)]),
            ],
        ),
        ("max_and_one", vec![col(&[max]), col(&[Some(1)])]),
        ("min_and_one", vec![col(&[min]), col(&[Some(1)])]),
        ("min_and_minus_one", vec![col(&[min]), col(&[Some(-1)])]),
        ("max_and_two", vec![col(&[max]), col(&[Some(2)])]),
    ]
}

/// featc's checked operator over whole columns (its DataFusion function, which the
/// batch and streaming paths evaluate): the result column, or an error when any row
/// overflows.
fn arith(op: ArithOp, args: &[Vec<Value>]) -> Expected {
    let rows = args.first().map_or(0, Vec::len);
    let columns = args
        .iter()
        .map(|c| {
            let ints: Int64Array = c
                .iter()
                .map(|v| match v {
                    Value::Int64(x) => Some(*x),
                    _ => None,
                })
                .collect();
            ColumnarValue::Array(Arc::new(ints))
        })
        .collect::<Vec<_>>();
    let field = Arc::new(Field::new("x", ArrowType::Int64, true));
    let call = ScalarFunctionArgs {
        arg_fields: vec![field.clone(); columns.len()],
        args: columns,
        number_rows: rows,
        return_field: field,
        config_options: Arc::new(ConfigOptions::default()),
    };
    let out = match udf(op).invoke_with_args(call) {
        Ok(ColumnarValue::Array(out)) => out,
        Ok(ColumnarValue::Scalar(_)) | Err(_) => return Expected::Error,
    };
    match out.as_any().downcast_ref::<Int64Array>() {
        Some(out) => Expected::Rows(
            out.iter()
                .map(|x| x.map_or(Value::Null, Value::Int64))
                .collect(),
        ),
        None => Expected::Error,
    }
}
