//! `avg(x)`: the exact sum divided by the count of non-null values, correctly rounded;
//! float64 result for int64 or float64 input; empty is null.

use super::{AggError, Aggregation, Invertible, SumFloat, ValueRun};
use crate::exact::{self, ExactSum};
use crate::ir::{AggKind, DataType};
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct Avg;

/// Count and exact sum of the non-null numeric inputs.
#[derive(Debug, Default)]
pub struct AvgState {
    pub n: u64,
    pub s1: ExactSum,
}

/// `clone_from` reuses the allocation (see `exact::FixedAcc`).
impl Clone for AvgState {
    fn clone(&self) -> Self {
        AvgState {
            n: self.n,
            s1: self.s1.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.n = source.n;
        self.s1.clone_from(&source.s1);
    }
}

impl Aggregation for Avg {
    type State = AvgState;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> AvgState {
        AvgState::default()
    }

    fn combine(&self, into: &mut AvgState, other: &AvgState) {
        into.n = into.n.wrapping_add(other.n);
        into.s1.merge(&other.s1);
    }

    fn finish(&self, s: &AvgState) -> Result<Value, AggError> {
        Ok(avg_value(&s.s1, s.n))
    }

    fn finish_as(
        &self,
        s: &AvgState,
        agg: AggKind,
        input: Option<DataType>,
    ) -> Option<Result<Value, AggError>> {
        sum_as(&s.s1, agg, input)
    }

    #[inline]
    fn insert(&self, s: &mut AvgState, _ts: i64, v: &Value) {
        match v {
            Value::Float64(x) => s.s1.add_f64(*x),
            Value::Int64(x) => s.s1.add_i64(*x),
            _ => return,
        }
        s.n = s.n.wrapping_add(1);
    }

    fn state_bytes(&self, s: &AvgState) -> usize {
        8 + s.s1.approx_bytes()
    }

    #[inline]
    fn prefetch_state(&self, s: &AvgState) {
        s.s1.prefetch();
    }

    #[inline]
    fn fold_run<R: ValueRun>(&self, s: &mut AvgState, run: &R, insert: bool) -> bool {
        let AvgState { n, s1 } = s;
        if insert {
            run.each_f64(|x| {
                s1.add_f64(x);
                *n = n.wrapping_add(1);
            })
        } else {
            run.each_f64(|x| {
                s1.sub_f64(x);
                *n = n.wrapping_sub(1);
            })
        }
    }
}

/// avg's result for `n` non-null values summing to `s1` (empty is null).
pub fn avg_value(s1: &ExactSum, n: u64) -> Value {
    if n == 0 {
        return Value::Null;
    }
    Value::Float64(exact::avg(s1, n))
}

/// A float `sum`'s result read from another aggregation's exact sum `s1` of the same
/// float64 values (`SumFloat`'s own state is that sum); `None` for anything else (an
/// int64 sum has its own overflow rule).
pub fn sum_as(
    s1: &ExactSum,
    agg: AggKind,
    input: Option<DataType>,
) -> Option<Result<Value, AggError>> {
    (agg == AggKind::Sum && input == Some(DataType::Float64)).then(|| SumFloat.finish(s1))
}

impl Invertible for Avg {
    #[inline]
    fn remove(&self, s: &mut AvgState, _ts: i64, v: &Value) {
        match v {
            Value::Float64(x) => s.s1.sub_f64(*x),
            Value::Int64(x) => s.s1.sub_i64(*x),
            _ => return,
        }
        s.n = s.n.wrapping_sub(1);
    }

    fn uncombine(&self, from: &mut AvgState, other: &AvgState) {
        from.n = from.n.wrapping_sub(other.n);
        from.s1.unmerge(&other.s1);
    }
}

impl Persist for AvgState {
    fn save(&self, w: &mut Writer) {
        w.u64(self.n);
        self.s1.save(w);
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(AvgState {
            n: r.u64()?,
            s1: ExactSum::load(r)?,
        })
    }
}
