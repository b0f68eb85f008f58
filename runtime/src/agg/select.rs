//! `Select` and `SelectAgg`: the aggregations that keep one preferred event (min,
//! max, first, last), as a monoid over `Option<key>`.

use std::cmp::Ordering;

use super::{AggError, Aggregation, ValueRun};
use crate::ir::{AggKind, DataType};
use crate::snapshot::Persist;
use crate::value::Value;

/// Picks the preferred event by a totally ordered key.
///
/// Invariants: `key` is `None` exactly for null values; keys equal under `Ord` yield
/// bit-identical `value`s (keys hold canonical values), so the result does not depend
/// on which of two equal keys was kept.
pub trait Select: Clone + Copy + Send + Sync + std::fmt::Debug + Default + 'static {
    type Key: Ord + Clone + std::fmt::Debug + Send + Sync + Persist + 'static;
    /// True to keep the greatest key (max, last), false for the smallest (min, first).
    const PREFER_GREATER: bool;
    const KIND: AggKind;
    /// True when the key orders by event time first (first, last).
    const BY_TIME: bool = false;

    fn key(ts: i64, v: &Value) -> Option<Self::Key>;
    fn value(k: &Self::Key) -> Value;

    /// The fixed-width input type whose stored words `stored_key` reads (`None`:
    /// keys are built from `Value`s only).
    const STORED: Option<DataType> = None;

    /// The key of the value stored as word `w` (`ValueRun::each_word`) at `ts`: equal
    /// to `key(ts, v)` for that value. Called only when `STORED` is `Some`.
    #[inline]
    fn stored_key(_ts: i64, _w: u64) -> Option<Self::Key> {
        None
    }

    /// The order of `key(a.0, &a.1)` and `key(b.0, &b.1)` for non-null values,
    /// computed on the borrowed values (no key is built).
    #[inline]
    fn cmp_values(a: (i64, &Value), b: (i64, &Value)) -> Ordering {
        // By time, the values are compared only on a tie (string compares are costly).
        if Self::BY_TIME {
            a.0.cmp(&b.0).then_with(|| a.1.total_cmp(b.1))
        } else {
            a.1.total_cmp(b.1)
        }
    }

    /// `at_least_as_good` on borrowed values (see `cmp_values`).
    #[inline]
    fn at_least_as_good_values(a: (i64, &Value), b: (i64, &Value)) -> bool {
        Self::prefers(Self::cmp_values(a, b))
    }

    /// True when `a` is preferred to `b` or equal to it.
    #[inline]
    fn at_least_as_good(a: &Self::Key, b: &Self::Key) -> bool {
        Self::prefers(a.cmp(b))
    }

    /// True when an `a` ordered `order` against `b` is preferred to it or equal.
    #[inline]
    fn prefers(order: Ordering) -> bool {
        match order {
            Ordering::Equal => true,
            Ordering::Greater => Self::PREFER_GREATER,
            Ordering::Less => !Self::PREFER_GREATER,
        }
    }
}

/// Replaces the kept key `s` with `k` unless `s` is at least as good.
#[inline]
fn keep_preferred<S: Select>(s: &mut Option<S::Key>, k: S::Key) {
    match s {
        Some(i) if S::at_least_as_good(i, &k) => {}
        _ => *s = Some(k),
    }
}

/// The monoid of a `Select`: identity `None`, combine keeps the preferred key.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectAgg<S: Select>(pub S);

impl<S: Select> Aggregation for SelectAgg<S> {
    type State = Option<S::Key>;
    const INVERTIBLE: bool = false;

    fn identity(&self) -> Option<S::Key> {
        None
    }

    fn combine(&self, into: &mut Option<S::Key>, other: &Option<S::Key>) {
        if let Some(o) = other {
            match into {
                Some(i) if S::at_least_as_good(i, o) => {}
                _ => *into = Some(o.clone()),
            }
        }
    }

    fn finish(&self, s: &Option<S::Key>) -> Result<Value, AggError> {
        Ok(s.as_ref().map_or(Value::Null, S::value))
    }

    #[inline]
    fn insert(&self, s: &mut Option<S::Key>, ts: i64, v: &Value) {
        if let Some(k) = S::key(ts, v) {
            keep_preferred::<S>(s, k);
        }
    }

    fn state_bytes(&self, _s: &Option<S::Key>) -> usize {
        std::mem::size_of::<Option<S::Key>>()
    }

    /// Keeps the preferred of the current key and the run's: read from stored
    /// words, or found among borrowed values so that only the winner is copied.
    #[inline]
    fn fold_run<R: ValueRun>(&self, s: &mut Option<S::Key>, run: &R, insert: bool) -> bool {
        if !insert {
            return false;
        }
        if let Some(ty) = S::STORED {
            return run.each_word(ty, |ts, _seq, w| {
                if let Some(k) = S::stored_key(ts, w) {
                    keep_preferred::<S>(s, k);
                }
            });
        }
        let mut best: Option<(i64, &Value)> = None;
        let typed = run.each_value(|ts, _seq, v| {
            if best.is_none_or(|b| !S::at_least_as_good_values(b, (ts, v))) {
                best = Some((ts, v));
            }
        });
        if let Some((ts, v)) = best.filter(|_| typed) {
            self.insert(s, ts, v);
        }
        typed
    }
}
