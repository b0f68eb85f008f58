//! Property tests of `KeyState`: for random features, events pushed in any order,
//! reads at random (also decreasing) times and drops, every value equals a naive
//! fold over the events with `t - W < ts <= t` (a count window: its `N` latest by
//! time then value), with the ttl rule applied.

use crate::algebra_support;

use std::sync::Arc;

use algebra_support::cases::{cases, TYPES};
use algebra_support::naive::{naive, same_result};
use featc_runtime::ir::{AggKind, DataType};
use featc_runtime::plan::{FeaturePlan, TtlRule};
use featc_runtime::snapshot::{Reader, Writer};
use featc_runtime::value::Value;
use featc_runtime::window::{KeySpec, KeyState, SpecError};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// One input slot per type.
const SLOTS: [DataType; 7] = TYPES;

/// A feature as `KeySpec` reads it (aggregation, slots, window, ttl); the rest of the
/// plan's fields are left empty.
fn spec(
    agg: AggKind,
    input: Option<usize>,
    filter: Option<usize>,
    window_us: Option<i64>,
    ttl: Option<TtlRule>,
) -> FeaturePlan {
    FeaturePlan {
        name: String::new(),
        view: String::new(),
        agg,
        input,
        filter,
        window_us,
        events: None,
        shift_us: 0,
        view_filter: ttl.and_then(|t| t.filter),
        ttl,
        ty: DataType::Int64,
        span: Default::default(),
    }
}

/// The type of the values in `f`'s input slot (`None` for `count(*)`).
fn input_type(f: &FeaturePlan) -> Option<DataType> {
    f.input.map(|i| SLOTS[i])
}

fn value(ty: DataType) -> BoxedStrategy<Value> {
    let v: BoxedStrategy<Value> = match ty {
        DataType::Int64 => (-4i64..5).prop_map(Value::Int64).boxed(),
        DataType::Float64 => prop_oneof![
            6 => prop::sample::select(vec![0.0, -0.0, 1.5, -2.25, 0.1, 0.2, 1e300, 5e-324]),
            3 => (-50i64..50).prop_map(|c| c as f64 / 10.0),
            1 => prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
        ]
        .prop_map(Value::Float64)
        .boxed(),
        DataType::String => prop::sample::select(vec!["", "a", "b", "ab"])
            .prop_map(|s| Value::String(Arc::from(s)))
            .boxed(),
        DataType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        DataType::Timestamp => (-3i64..4).prop_map(Value::Timestamp).boxed(),
        DataType::Date => prop::sample::select(vec![-719_162, -1, 0, 1, 2_932_896])
            .prop_map(Value::Date)
            .boxed(),
        DataType::Decimal { precision, scale } => {
            // Small values that tie, and the type's ends (two of them overflow a sum).
            let max = 10i128.pow(u32::from(precision)) - 1;
            prop::sample::select(vec![0, 1, -1, 150, -150, 99, max, -max])
                .prop_map(move |u| Value::decimal(u, precision, scale))
                .boxed()
        }
        DataType::List(_) => unreachable!("no aggregation reads a list"),
    };
    prop_oneof![4 => v, 1 => Just(Value::Null)].boxed()
}

fn feature() -> impl Strategy<Value = FeaturePlan> {
    (
        0..cases().len(),
        prop_oneof![Just(None), (0usize..2).prop_map(Some)],
        prop::sample::select(vec![None, Some(1i64), Some(3), Some(7)]),
        prop::sample::select(vec![0i64, 0, 1, 4]),
        prop_oneof![
            2 => Just(None),
            1 => (prop::sample::select(vec![2i64, 5]), prop_oneof![Just(None), Just(Some(0usize))])
                .prop_map(|(ttl_us, filter)| Some(TtlRule { ttl_us, filter })),
        ],
        // A count window: alone, or capping the duration (ties at the cut are common:
        // 40 events on 25 times).
        prop::sample::select(vec![None, None, None, Some(1u32), Some(2), Some(4)]),
    )
        .prop_map(|(c, filter, window_us, shift, ttl, events)| {
            let (agg, ty) = cases()[c];
            let input = ty.map(|t| SLOTS.iter().position(|s| *s == t).unwrap());
            // A shifted window (offset, exclusive end) only with a window or a count.
            let shift_us = if window_us.is_some() || events.is_some() {
                shift
            } else {
                0
            };
            FeaturePlan {
                shift_us,
                events,
                ..spec(agg, input, filter, window_us, ttl)
            }
        })
}

#[derive(Debug, Clone)]
struct Event {
    ts: i64,
    inputs: Vec<Value>,
    filters: Vec<bool>,
}

fn event() -> impl Strategy<Value = Event> {
    (
        0i64..25,
        SLOTS.iter().map(|t| value(*t)).collect::<Vec<_>>(),
        prop::collection::vec(any::<bool>(), 2),
    )
        .prop_map(|(ts, inputs, filters)| Event {
            ts,
            inputs,
            filters,
        })
}

#[derive(Debug, Clone)]
enum Op {
    Push,
    Read(i64),
    Drop(i64),
    Promise(i64),
    /// `shrink_to_fit`: changes no later read.
    Shrink,
    /// Through `save` and `load`: changes no later read.
    Reload,
}

/// `state` through its snapshot encoding and back.
fn reloaded(state: &KeyState) -> KeyState {
    let mut w = Writer::new();
    state.save(&mut w);
    let bytes = w.into_bytes();
    let mut r = Reader::new(&bytes);
    let back = KeyState::load(state.spec().clone(), &mut r).unwrap();
    r.finish().unwrap();
    back
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => Just(Op::Push),
        4 => (0i64..30).prop_map(Op::Read),
        1 => (0i64..30).prop_map(Op::Drop),
        2 => (0i64..30).prop_map(Op::Promise),
        1 => Just(Op::Shrink),
        1 => Just(Op::Reload),
    ]
}

/// The value of `f` at `t` over `pushed` (index = seq), from the definitions.
fn expected(
    f: &FeaturePlan,
    pushed: &[&Event],
    t: i64,
) -> Result<Value, featc_runtime::agg::AggError> {
    if let Some(ttl) = f.ttl {
        let fresh = pushed
            .iter()
            .any(|e| e.ts <= t && e.ts > t - ttl.ttl_us && ttl.filter.is_none_or(|s| e.filters[s]));
        if !fresh {
            return Ok(Value::Null);
        }
    }
    let mut evs: Vec<(i64, Value)> = pushed
        .iter()
        // A shift reads the window at `t - shift`: `(t - s - W, t - s]`.
        .filter(|e| e.ts <= t - f.shift_us && f.window_us.is_none_or(|w| e.ts > t - f.shift_us - w))
        .filter(|e| f.filter.is_none_or(|s| e.filters[s]))
        .map(|e| (e.ts, f.input.map_or(Value::Null, |i| e.inputs[i].clone())))
        .collect();
    if let Some(n) = f.events {
        // The `n` latest by time, then value (null first): semantics.md's cut.
        evs.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.total_cmp(&b.1)));
        evs = evs.split_off(evs.len().saturating_sub(n as usize));
    }
    naive(f.agg, input_type(f), &evs)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/algebra_keystate.txt"))), ..ProptestConfig::default() })]

    #[test]
    fn key_state_equals_naive(
        features in prop::collection::vec(feature(), 1..6),
        mut events in prop::collection::vec(event(), 0..40),
        lateness in prop::collection::vec(any::<u8>(), 0..40),
        ops in prop::collection::vec(op(), 0..90),
        fold_run in 1u32..8,
    ) {
        // Push order: sorted by ts, with some events moved later (late arrivals).
        events.sort_by_key(|e| e.ts);
        let mut order: Vec<usize> = (0..events.len()).collect();
        for (i, l) in lateness.iter().enumerate() {
            if i < order.len() && l % 4 == 0 {
                let j = (i + (*l as usize) % 6).min(order.len() - 1);
                order[i..=j].rotate_left(1);
            }
        }
        let spec = Arc::new(KeySpec::new(features.clone(), SLOTS.to_vec(), 2).unwrap());
        let mut state = KeyState::new(spec);
        state.set_fold_run(fold_run);
        let mut next = 0;
        let mut pushed: Vec<&Event> = Vec::new();
        let mut seqs: Vec<usize> = Vec::new();
        let mut horizon = i64::MIN;
        let mut out = Vec::new();
        for op in ops {
            match op {
                Op::Push => {
                    if next < order.len() {
                        let i = order[next];
                        next += 1;
                        let e = &events[i];
                        state.push_event(e.ts, i as u64, &e.inputs, &e.filters);
                        pushed.push(e);
                        seqs.push(i);
                    }
                }
                Op::Read(t) => {
                    let t = t.max(horizon);
                    state.read_into(t, &mut out);
                    prop_assert_eq!(out.len(), features.len());
                    for (f, got) in features.iter().zip(&out) {
                        let want = expected(f, &pushed, t);
                        prop_assert!(same_result(got, &want), "t={} {:?}: got {:?} want {:?}", t, f, got, want);
                    }
                    let latest = pushed.iter().map(|e| e.ts).filter(|&ts| ts <= t).max();
                    prop_assert_eq!(state.latest_at_or_before(t), latest);
                    // No value changes before the next change the state announces
                    // (what an online store's sink relies on to re-read nothing else).
                    let next = state.next_change_after(t);
                    prop_assert!(next.is_none_or(|n| n > t), "next change {:?} at t={}", next, t);
                    for later in t + 1..next.unwrap_or(t + 40).min(t + 40) {
                        for f in &features {
                            let (now, then) = (expected(f, &pushed, t), expected(f, &pushed, later));
                            prop_assert!(same_result(&now, &then), "{:?} changed at {} before the announced {:?} (read at {})", f, later, next, t);
                        }
                    }
                }
                Op::Drop(h) => {
                    horizon = horizon.max(h);
                    state.drop_before(h);
                }
                Op::Promise(h) => {
                    horizon = horizon.max(h);
                    state.promise(h);
                }
                Op::Shrink => state.shrink_to_fit(),
                Op::Reload => state = reloaded(&state),
            }
        }
    }
}

#[test]
fn spec_errors() {
    let f = spec(AggKind::Sum, Some(0), None, Some(5), None);
    assert!(matches!(
        KeySpec::new(vec![f.clone()], vec![DataType::String], 0),
        Err(SpecError::Agg { feature: 0, .. })
    ));
    let g = FeaturePlan {
        input: Some(3),
        ..f.clone()
    };
    assert!(matches!(
        KeySpec::new(vec![g], vec![DataType::Int64], 0),
        Err(SpecError::InputSlot { slot: 3, .. })
    ));
    let h = FeaturePlan {
        window_us: Some(0),
        ..f.clone()
    };
    assert!(matches!(
        KeySpec::new(vec![h], vec![DataType::Int64], 0),
        Err(SpecError::NonPositiveWindow { .. })
    ));
    let c = FeaturePlan {
        agg: AggKind::CountStar,
        ..f
    };
    assert!(matches!(
        KeySpec::new(vec![c], vec![DataType::Int64], 0),
        Err(SpecError::Input { .. })
    ));
}

#[test]
fn window_bounds_are_left_open_right_closed() {
    let f = spec(AggKind::Sum, Some(0), None, Some(10), None);
    let spec = Arc::new(KeySpec::new(vec![f], vec![DataType::Int64], 0).unwrap());
    let mut s = KeyState::new(spec);
    s.push_event(0, 0, &[Value::Int64(1)], &[]);
    s.push_event(10, 1, &[Value::Int64(2)], &[]);
    assert_eq!(
        s.read(10),
        vec![Ok(Value::Int64(2))],
        "the event at t - W is out, at t is in"
    );
    assert_eq!(s.read(9), vec![Ok(Value::Int64(1))]);
    assert_eq!(s.read(20), vec![Ok(Value::Int64(0))]);
}

#[test]
fn late_event_below_the_drop_frontier_reaches_lifetime_features() {
    // Regression: a late event at the frontier before anything was dropped was lost.
    let f = spec(AggKind::CountStar, None, None, None, None);
    let w = FeaturePlan {
        window_us: Some(3),
        ..f.clone()
    };
    let spec = Arc::new(KeySpec::new(vec![f, w], vec![], 0).unwrap());
    let mut s = KeyState::new(spec);
    s.drop_before(5);
    assert_eq!(s.read(14), vec![Ok(Value::Int64(0)), Ok(Value::Int64(0))]);
    s.push_event(1, 0, &[], &[]);
    s.push_event(4, 1, &[], &[]);
    assert_eq!(s.read(14), vec![Ok(Value::Int64(2)), Ok(Value::Int64(0))]);
    assert_eq!(s.read(6), vec![Ok(Value::Int64(2)), Ok(Value::Int64(1))]);
    assert_eq!(s.read(5), vec![Ok(Value::Int64(2)), Ok(Value::Int64(1))]);
}

#[test]
fn values_of_the_wrong_type_survive_the_compact_buffer_and_are_reported() {
    // The buffer stores floats and booleans as bits; a value of another variant must
    // still reach the accumulators (as itself) when a cursor replays the buffer.
    let sum = spec(AggKind::Sum, Some(0), None, Some(5), None);
    let last_bool = spec(AggKind::Last, Some(1), None, Some(5), None);
    let slots = vec![DataType::Float64, DataType::Bool];
    let spec = Arc::new(KeySpec::new(vec![sum, last_bool], slots, 0).unwrap());
    let mut s = KeyState::new(spec);
    s.push_event(1, 0, &[Value::Float64(-0.0), Value::Bool(true)], &[]);
    s.push_event(2, 1, &[Value::String(Arc::from("x")), Value::Int64(3)], &[]);
    s.push_event(3, 2, &[Value::Float64(2.5), Value::Null], &[]);
    let mismatch = |r: &Result<Value, featc_runtime::agg::AggError>, found: &str| matches!(r, Err(featc_runtime::agg::AggError::TypeMismatch { found: f, .. }) if *f == found);
    // Read backwards first so the cursor rebuilds from the buffer's rows.
    for t in [4, 3, 2] {
        let r = s.read(t);
        assert!(mismatch(&r[0], "string"), "t={t}: {r:?}");
        assert!(mismatch(&r[1], "int64"), "t={t}: {r:?}");
    }
    assert_eq!(
        s.read(1),
        vec![Ok(Value::Float64(0.0)), Ok(Value::Bool(true))]
    );
    // Once the odd event has left every window, a rebuilt cursor is clean again.
    let r = s.read(20);
    assert_eq!(r, vec![Ok(Value::Float64(0.0)), Ok(Value::Null)]);
}

#[test]
fn a_window_with_more_than_64_features_reads_every_one_after_each_change() {
    // Finish caching and run folds track the first 64 accumulators of a cursor in a
    // bit mask; the ones past it take the uncached, row-by-row paths.
    // Each feature reads its own slot: identical features would share one state.
    let features: Vec<FeaturePlan> = (0..70)
        .map(|i| {
            let agg = if i % 2 == 0 {
                AggKind::Count
            } else {
                AggKind::Sum
            };
            spec(agg, Some(i), None, Some(10), None)
        })
        .collect();
    let spec = Arc::new(KeySpec::new(features, vec![DataType::Int64; 70], 0).unwrap());
    let mut s = KeyState::new(spec);
    s.set_fold_run(3);
    let want = |count: i64, sum: i64| -> Vec<Result<Value, featc_runtime::agg::AggError>> {
        (0..70)
            .map(|i| Ok(Value::Int64(if i % 2 == 0 { count } else { sum })))
            .collect()
    };
    for (i, ts) in [1i64, 2, 4, 8, 12, 13].into_iter().enumerate() {
        s.push_event(ts, i as u64, &vec![Value::Int64(ts); 70], &[]);
        s.promise(ts - 1);
    }
    assert_eq!(s.read(13), want(4, 4 + 8 + 12 + 13));
    assert_eq!(s.read(13), want(4, 4 + 8 + 12 + 13));
    s.push_event(14, 6, &vec![Value::Int64(100); 70], &[]);
    assert_eq!(s.read(14), want(4, 8 + 12 + 13 + 100));
    assert_eq!(s.read(20), want(3, 12 + 13 + 100));
    assert_eq!(s.read(30), want(0, 0));
}

/// Features that see the same events and could share a state: sums, averages and
/// moments (and twins) over one float64 and one int64 slot, one filter, two windows.
fn shareable_feature() -> impl Strategy<Value = FeaturePlan> {
    (
        prop::sample::select(vec![
            AggKind::Sum,
            AggKind::Avg,
            AggKind::VarPop,
            AggKind::StddevPop,
            AggKind::Count,
        ]),
        prop::sample::select(vec![DataType::Float64, DataType::Int64]),
        prop_oneof![Just(None), Just(Some(0usize))],
        prop::sample::select(vec![None, Some(3i64)]),
    )
        .prop_map(|(agg, ty, filter, window_us)| {
            let input = SLOTS.iter().position(|s| *s == ty);
            spec(agg, input, filter, window_us, None)
        })
}

/// An event whose numeric inputs are sometimes of the wrong variant (the state must
/// report the mismatch under each sharing feature's own aggregation).
fn shareable_event() -> impl Strategy<Value = Event> {
    let odd = |ty| prop_oneof![12 => value(ty), 1 => Just(Value::Bool(true))];
    (
        0i64..25,
        odd(DataType::Float64),
        odd(DataType::Int64),
        prop::collection::vec(any::<bool>(), 2),
    )
        .prop_map(|(ts, f, i, filters)| {
            let mut inputs = vec![Value::Null; SLOTS.len()];
            inputs[SLOTS.iter().position(|s| *s == DataType::Float64).unwrap()] = f;
            inputs[SLOTS.iter().position(|s| *s == DataType::Int64).unwrap()] = i;
            Event {
                ts,
                inputs,
                filters,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/algebra_keystate_sharing.txt"))), ..ProptestConfig::default() })]

    /// Shared states are invisible: a state holding several features answers exactly
    /// what one state per feature answers (where nothing can be shared), bit for bit,
    /// errors included, whatever the push order, reads and drops.
    #[test]
    fn shared_states_answer_like_one_state_per_feature(
        features in prop::collection::vec(shareable_feature(), 2..8),
        events in prop::collection::vec(shareable_event(), 0..30),
        ops in prop::collection::vec(op(), 0..70),
        fold_run in 1u32..5,
    ) {
        let mut state = KeyState::new(Arc::new(KeySpec::new(features.clone(), SLOTS.to_vec(), 2).unwrap()));
        let mut alone: Vec<KeyState> = features
            .iter()
            .map(|f| KeyState::new(Arc::new(KeySpec::new(vec![f.clone()], SLOTS.to_vec(), 2).unwrap())))
            .collect();
        for s in std::iter::once(&mut state).chain(alone.iter_mut()) {
            s.set_fold_run(fold_run);
        }
        let mut next = 0;
        let mut horizon = i64::MIN;
        for op in ops {
            for s in std::iter::once(&mut state).chain(alone.iter_mut()) {
                match op {
                    Op::Push => {
                        if let Some(e) = events.get(next) {
                            s.push_event(e.ts, next as u64, &e.inputs, &e.filters);
                        }
                    }
                    Op::Read(_) => {}
                    Op::Drop(h) => s.drop_before(h),
                    Op::Promise(h) => s.promise(h),
                    Op::Shrink => s.shrink_to_fit(),
                    Op::Reload => *s = reloaded(s),
                }
            }
            match op {
                Op::Push => next += 1,
                Op::Read(t) => {
                    let t = t.max(horizon);
                    let got = state.read(t);
                    for (i, s) in alone.iter_mut().enumerate() {
                        let want = s.read(t);
                        prop_assert!(same_result(&got[i], &want[0]), "t={} {:?}: shared {:?} alone {:?}", t, features[i], got[i], want[0]);
                    }
                }
                Op::Drop(h) | Op::Promise(h) => horizon = horizon.max(h),
                Op::Shrink | Op::Reload => {}
            }
        }
    }
}
