//! `sum(x)` over float64: the exact sum rounded once (ties to even); empty and exact
//! zero are +0.0; non-finite inputs per semantics.md.

use super::{AggError, Aggregation, Invertible, ValueRun};
use crate::exact::ExactSum;
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct SumFloat;

impl Aggregation for SumFloat {
    type State = ExactSum;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> ExactSum {
        ExactSum::new()
    }

    fn combine(&self, into: &mut ExactSum, other: &ExactSum) {
        into.merge(other);
    }

    fn finish(&self, s: &ExactSum) -> Result<Value, AggError> {
        Ok(Value::Float64(s.round()))
    }

    #[inline]
    fn insert(&self, s: &mut ExactSum, _ts: i64, v: &Value) {
        if let Value::Float64(x) = v {
            s.add_f64(*x);
        }
    }

    fn state_bytes(&self, s: &ExactSum) -> usize {
        s.approx_bytes()
    }

    #[inline]
    fn prefetch_state(&self, s: &ExactSum) {
        s.prefetch();
    }

    #[inline]
    fn fold_run<R: ValueRun>(&self, s: &mut ExactSum, run: &R, insert: bool) -> bool {
        if insert {
            run.each_f64(|x| s.add_f64(x))
        } else {
            run.each_f64(|x| s.sub_f64(x))
        }
    }
}

impl Invertible for SumFloat {
    #[inline]
    fn remove(&self, s: &mut ExactSum, _ts: i64, v: &Value) {
        if let Value::Float64(x) = v {
            s.sub_f64(*x);
        }
    }

    fn uncombine(&self, from: &mut ExactSum, other: &ExactSum) {
        from.unmerge(other);
    }
}
