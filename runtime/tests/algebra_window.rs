//! Property tests of the aggregations and window accumulators: every aggregation
//! under random insert / evict / late-insert sequences equals a naive fold of the
//! current multiset, and the monoid laws hold.

use crate::algebra_support;

use std::sync::Arc;

use algebra_support::cases::cases;
use algebra_support::naive::{naive, same_result};
use featc_runtime::agg::{self, AggError, Aggregation, Invertible};
use featc_runtime::ir::{AggKind, DataType};
use featc_runtime::value::Value;
use featc_runtime::window::window_accumulator;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => prop::sample::select(vec![0.0, -0.0, 1.5, -2.25, 0.1, 0.2, 1e308, -1e308, 5e-324, 3.0]),
        4 => (-50i64..50).prop_map(|c| c as f64 / 10.0),
        2 => any::<u64>().prop_map(f64::from_bits).prop_filter("finite", |x| x.is_finite()),
        1 => prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
    ]
}

/// A value of type `ty` (small domains, so ties and duplicates are common), or null.
pub fn value(ty: Option<DataType>) -> BoxedStrategy<Value> {
    let v: BoxedStrategy<Value> = match ty {
        None | Some(DataType::Int64) => prop_oneof![
            9 => (-4i64..5).prop_map(Value::Int64),
            1 => prop::sample::select(vec![i64::MAX, i64::MIN, i64::MAX - 1]).prop_map(Value::Int64),
        ]
        .boxed(),
        Some(DataType::Float64) => float().prop_map(Value::Float64).boxed(),
        Some(DataType::String) => prop::sample::select(vec!["", "a", "b", "ab", "é"])
            .prop_map(|s| Value::String(Arc::from(s)))
            .boxed(),
        Some(DataType::Bool) => any::<bool>().prop_map(Value::Bool).boxed(),
        Some(DataType::Timestamp) => (-3i64..4).prop_map(Value::Timestamp).boxed(),
        Some(DataType::Date) => prop::sample::select(vec![-719_162, -1, 0, 1, 2_932_896])
            .prop_map(Value::Date)
            .boxed(),
        Some(DataType::Decimal { precision, scale }) => {
            // Small values that tie, and the type's ends (two of them overflow a sum).
            let max = 10i128.pow(u32::from(precision)) - 1;
            prop::sample::select(vec![0, 1, -1, 150, -150, 99, max, -max])
                .prop_map(move |u| Value::decimal(u, precision, scale))
                .boxed()
        }
        Some(DataType::List(_)) => unreachable!("no aggregation reads a list"),
    };
    prop_oneof![4 => v, 1 => Just(Value::Null)].boxed()
}

/// A case, its events sorted by `(ts, seq)` (seq = index), and an op script.
fn scenario() -> impl Strategy<Value = (usize, Vec<(i64, Value)>, Vec<u16>)> {
    (0..cases().len()).prop_flat_map(|c| {
        let ty = cases()[c].1;
        (
            Just(c),
            prop::collection::vec((0i64..20, value(ty)), 0..40).prop_map(|mut v| {
                v.sort_by_key(|e| e.0);
                v
            }),
            prop::collection::vec(any::<u16>(), 0..80),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/algebra_window.txt"))), ..ProptestConfig::default() })]

    /// Sliding window: evictions in (ts, seq) order of inserted events; inserts in
    /// order or late (after the last evicted event).
    #[test]
    fn windowed_accumulator_equals_naive((case, events, ops) in scenario()) {
        let (agg, ty) = cases()[case];
        let mut acc = window_accumulator(agg, ty, true).unwrap();
        let mut inserted = vec![false; events.len()];
        let mut evicted = vec![false; events.len()];
        let mut last_evicted: Option<usize> = None;
        for op in ops {
            let live: Vec<usize> = (0..events.len()).filter(|&i| inserted[i] && !evicted[i]).collect();
            let first_ok = last_evicted.map_or(0, |l| l + 1);
            let pending: Vec<usize> = (first_ok..events.len()).filter(|&i| !inserted[i]).collect();
            if op % 4 == 0 && !live.is_empty() || pending.is_empty() {
                let Some(&i) = live.first() else { break };
                acc.evict(events[i].0, i as u64, &events[i].1);
                evicted[i] = true;
                last_evicted = Some(i);
            } else {
                // Mostly in order (the earliest pending), sometimes any pending (late).
                let i = if op % 3 == 0 { pending[op as usize % pending.len()] } else { pending[0] };
                acc.insert(events[i].0, i as u64, &events[i].1);
                inserted[i] = true;
            }
            let cur: Vec<(i64, Value)> = (0..events.len())
                .filter(|&i| inserted[i] && !evicted[i])
                .map(|i| events[i].clone())
                .collect();
            let want = naive(agg, ty, &cur);
            let got = acc.finish();
            prop_assert!(same_result(&got, &want), "{:?} {:?}: got {:?} want {:?} over {:?}", agg, ty, got, want, cur);
        }
    }

    /// Lifetime accumulator: inserts only, in any order.
    #[test]
    fn lifetime_accumulator_equals_naive((case, events, ops) in scenario()) {
        let (agg, ty) = cases()[case];
        let mut acc = window_accumulator(agg, ty, false).unwrap();
        let mut order: Vec<usize> = (0..events.len()).collect();
        for (k, op) in ops.iter().enumerate() {
            if order.len() > 1 {
                let n = order.len();
                order.swap(k % n, *op as usize % n);
            }
        }
        let mut cur = Vec::new();
        for i in order {
            acc.insert(events[i].0, i as u64, &events[i].1);
            cur.push(events[i].clone());
            let want = naive(agg, ty, &cur);
            prop_assert!(same_result(&acc.finish(), &want), "{:?} {:?}", agg, ty);
        }
        let mut copy = acc.clone_box();
        prop_assert!(same_result(&copy.finish(), &naive(agg, ty, &cur)));
        copy.reset();
        prop_assert!(same_result(&copy.finish(), &naive(agg, ty, &[])));
    }
}

/// Folds `events` with `insert`, split at `cut` into two states, then combines.
fn split_fold<A: Aggregation>(a: &A, events: &[(i64, Value)], cut: usize) -> A::State {
    let cut = cut.min(events.len());
    let mut l = a.identity();
    for (ts, v) in &events[..cut] {
        a.insert(&mut l, *ts, v);
    }
    let mut r = a.identity();
    for (ts, v) in &events[cut..] {
        a.combine(&mut r, &a.lift(*ts, v));
    }
    a.combine(&mut r, &l);
    r
}

fn check_monoid<A: Aggregation>(
    a: &A,
    agg: AggKind,
    ty: DataType,
    events: &[(i64, Value)],
    cut: usize,
) -> Result<(), TestCaseError> {
    let s = split_fold(a, events, cut);
    prop_assert!(
        same_result(&a.finish(&s), &naive(agg, Some(ty), events)),
        "{:?}",
        agg
    );
    let mut id = a.identity();
    a.combine(&mut id, &s);
    prop_assert!(
        same_result(&a.finish(&id), &a.finish(&s)),
        "identity is neutral"
    );
    Ok(())
}

fn check_inverse<A: Invertible>(
    a: &A,
    agg: AggKind,
    ty: DataType,
    events: &[(i64, Value)],
    cut: usize,
) -> Result<(), TestCaseError> {
    check_monoid(a, agg, ty, events, cut)?;
    let cut = cut.min(events.len());
    let all = split_fold(a, events, 0);
    let mut tail = a.identity();
    for (ts, v) in &events[cut..] {
        a.insert(&mut tail, *ts, v);
    }
    let mut head = all.clone();
    a.uncombine(&mut head, &tail);
    prop_assert!(
        same_result(&a.finish(&head), &naive(agg, Some(ty), &events[..cut])),
        "uncombine {:?}",
        agg
    );
    let mut s = all;
    for (ts, v) in &events[..cut] {
        a.remove(&mut s, *ts, v);
    }
    prop_assert!(
        same_result(&a.finish(&s), &naive(agg, Some(ty), &events[cut..])),
        "remove {:?}",
        agg
    );
    Ok(())
}

fn typed_events(ty: DataType) -> impl Strategy<Value = Vec<(i64, Value)>> {
    prop::collection::vec((0i64..10, value(Some(ty))), 0..30)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/algebra_window.txt"))), ..ProptestConfig::default() })]

    #[test]
    fn monoid_laws_float(events in typed_events(DataType::Float64), cut in 0usize..30) {
        use DataType::Float64 as F;
        check_inverse(&agg::SumFloat, AggKind::Sum, F, &events, cut)?;
        check_inverse(&agg::Avg, AggKind::Avg, F, &events, cut)?;
        check_inverse(&agg::VarPop::default(), AggKind::VarPop, F, &events, cut)?;
        check_inverse(&agg::StddevPop::default(), AggKind::StddevPop, F, &events, cut)?;
        check_inverse(&agg::Count::default(), AggKind::Count, F, &events, cut)?;
        check_inverse(&agg::CountDistinct, AggKind::CountDistinct, F, &events, cut)?;
        check_monoid(&agg::Min::default(), AggKind::Min, F, &events, cut)?;
        check_monoid(&agg::Max::default(), AggKind::Max, F, &events, cut)?;
        check_monoid(&agg::First::default(), AggKind::First, F, &events, cut)?;
        check_monoid(&agg::Last::default(), AggKind::Last, F, &events, cut)?;
    }

    #[test]
    fn monoid_laws_int(events in typed_events(DataType::Int64), cut in 0usize..30) {
        use DataType::Int64 as I;
        check_inverse(&agg::SumInt, AggKind::Sum, I, &events, cut)?;
        check_inverse(&agg::Avg, AggKind::Avg, I, &events, cut)?;
        check_inverse(&agg::VarPop::default(), AggKind::VarPop, I, &events, cut)?;
        check_inverse(&agg::StddevPop::default(), AggKind::StddevPop, I, &events, cut)?;
        check_inverse(&agg::CountStar::default(), AggKind::CountStar, I, &events, cut)?;
        check_monoid(&agg::Last::default(), AggKind::Last, I, &events, cut)?;
    }

    #[test]
    fn monoid_laws_lists(f in typed_events(DataType::Float64), s in typed_events(DataType::String), cut in 0usize..30, k in 1u32..5) {
        use featc_runtime::ir::Scalar;
        use DataType::{Float64 as F, String as S};
        check_inverse(&agg::LastK::new(k, Scalar::Float64), AggKind::LastK(k), F, &f, cut)?;
        check_inverse(&agg::FirstK::new(k, Scalar::Float64), AggKind::FirstK(k), F, &f, cut)?;
        check_inverse(&agg::TopK::new(k, Scalar::Float64), AggKind::TopK(k), F, &f, cut)?;
        check_inverse(&agg::TopK::new(k, Scalar::String), AggKind::TopK(k), S, &s, cut)?;
        // A lifetime keeps only the k best: a monoid, never removed from.
        check_monoid(&agg::LastK::bounded(k, Scalar::Float64), AggKind::LastK(k), F, &f, cut)?;
        check_monoid(&agg::FirstK::bounded(k, Scalar::String), AggKind::FirstK(k), S, &s, cut)?;
    }

    #[test]
    fn monoid_laws_other(s in typed_events(DataType::String), b in typed_events(DataType::Bool), cut in 0usize..30) {
        check_inverse(&agg::CountDistinct, AggKind::CountDistinct, DataType::String, &s, cut)?;
        check_monoid(&agg::Min::default(), AggKind::Min, DataType::String, &s, cut)?;
        check_monoid(&agg::First::default(), AggKind::First, DataType::String, &s, cut)?;
        check_inverse(&agg::CountIf::default(), AggKind::CountIf, DataType::Bool, &b, cut)?;
        check_monoid(&agg::Max::default(), AggKind::Max, DataType::Bool, &b, cut)?;
    }
}

#[test]
fn unsupported_and_mismatched_inputs() {
    let e = window_accumulator(AggKind::Sum, Some(DataType::String), true).unwrap_err();
    assert_eq!(
        e,
        AggError::UnsupportedInput {
            agg: AggKind::Sum,
            input: Some(DataType::String)
        }
    );
    let mut acc = window_accumulator(AggKind::Sum, Some(DataType::Int64), true).unwrap();
    acc.insert(1, 0, &Value::Int64(3));
    assert_eq!(acc.finish(), Ok(Value::Int64(3)));
    acc.insert(2, 1, &Value::Float64(1.0));
    assert!(matches!(acc.finish(), Err(AggError::TypeMismatch { .. })));
    acc.reset();
    assert_eq!(acc.finish(), Ok(Value::Int64(0)));
}

#[test]
fn integer_sum_overflow_is_an_error_only_at_the_end() {
    let mut acc = window_accumulator(AggKind::Sum, Some(DataType::Int64), true).unwrap();
    acc.insert(1, 0, &Value::Int64(i64::MAX));
    acc.insert(2, 1, &Value::Int64(1));
    assert_eq!(
        acc.finish(),
        Err(AggError::IntegerOverflow { agg: AggKind::Sum })
    );
    acc.insert(3, 2, &Value::Int64(-5));
    assert_eq!(acc.finish(), Ok(Value::Int64(i64::MAX - 4)));
}
