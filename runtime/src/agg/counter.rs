//! `Counts` and `CountAgg`: the counting aggregations (count(*), count, count_if) as
//! one invertible monoid over `u64`, differing only in which events they count.

use super::{AggError, Aggregation, Invertible, ValueRun};
use crate::value::Value;

/// Decides whether an event's value counts.
///
/// Invariant: `counts` is a pure function of the value (so removing an event undoes
/// inserting it).
pub trait Counts: Clone + Copy + Send + Sync + std::fmt::Debug + Default + 'static {
    fn counts(v: &Value) -> bool;
    /// How many events of `run` count (`None`: the run cannot say).
    fn count_run<R: ValueRun>(run: &R) -> Option<u64>;
}

/// The monoid of a `Counts`: the number of counted events.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountAgg<C: Counts>(pub C);

impl<C: Counts> Aggregation for CountAgg<C> {
    type State = u64;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> u64 {
        0
    }

    fn combine(&self, into: &mut u64, other: &u64) {
        *into = into.wrapping_add(*other);
    }

    fn finish(&self, s: &u64) -> Result<Value, AggError> {
        Ok(Value::Int64(*s as i64))
    }

    #[inline]
    fn insert(&self, s: &mut u64, _ts: i64, v: &Value) {
        if C::counts(v) {
            *s = s.wrapping_add(1);
        }
    }

    fn state_bytes(&self, _s: &u64) -> usize {
        8
    }

    #[inline]
    fn fold_run<R: ValueRun>(&self, s: &mut u64, run: &R, insert: bool) -> bool {
        let Some(n) = C::count_run(run) else {
            return false;
        };
        *s = if insert {
            s.wrapping_add(n)
        } else {
            s.wrapping_sub(n)
        };
        true
    }
}

impl<C: Counts> Invertible for CountAgg<C> {
    #[inline]
    fn remove(&self, s: &mut u64, _ts: i64, v: &Value) {
        if C::counts(v) {
            *s = s.wrapping_sub(1);
        }
    }

    fn uncombine(&self, from: &mut u64, other: &u64) {
        *from = from.wrapping_sub(*other);
    }
}
