//! `Moments`: count, exact sum and exact sum of squares, and `MomentsAgg`, the
//! aggregation over them that var_pop and stddev_pop share (they differ in `finish`).

use super::avg::{avg_value, sum_as};
use super::{AggError, Aggregation, Invertible, ValueRun};
use crate::exact::{ExactSum, SquareSum};
use crate::ir::{AggKind, DataType};
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

/// Invariant: `s2` holds the squares of exactly the finite values whose sum is in
/// `s1`; non-finite values are only counted in `s1` (and make the finishes NaN).
#[derive(Debug, Default)]
pub struct Moments {
    pub n: u64,
    pub s1: ExactSum,
    pub s2: SquareSum,
}

/// `clone_from` reuses the allocations (see `exact::FixedAcc`).
impl Clone for Moments {
    fn clone(&self) -> Self {
        Moments {
            n: self.n,
            s1: self.s1.clone(),
            s2: self.s2.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.n = source.n;
        self.s1.clone_from(&source.s1);
        self.s2.clone_from(&source.s2);
    }
}

impl Moments {
    /// Adds (`sub == false`) or retracts one value; non-numeric values are ignored.
    #[inline]
    pub fn put(&mut self, v: &Value, sub: bool) {
        match v {
            Value::Float64(x) => {
                if sub {
                    self.s1.sub_f64(*x)
                } else {
                    self.s1.add_f64(*x)
                }
                self.s2.put_f64(*x, sub);
            }
            Value::Int64(x) => {
                if sub {
                    self.s1.sub_i64(*x)
                } else {
                    self.s1.add_i64(*x)
                }
                self.s2.put_i64(*x, sub);
            }
            _ => return,
        }
        self.n = if sub {
            self.n.wrapping_sub(1)
        } else {
            self.n.wrapping_add(1)
        };
    }

    pub fn merge(&mut self, other: &Moments, sub: bool) {
        if sub {
            self.n = self.n.wrapping_sub(other.n);
            self.s1.unmerge(&other.s1);
        } else {
            self.n = self.n.wrapping_add(other.n);
            self.s1.merge(&other.s1);
        }
        self.s2.merge(&other.s2, sub);
    }

    pub fn approx_bytes(&self) -> usize {
        8 + self.s1.approx_bytes() + self.s2.approx_bytes()
    }
}

/// How a moments aggregation turns exact `(Σx, Σx², n)` into its result (n > 0).
pub trait MomentFinish: Clone + Copy + Send + Sync + std::fmt::Debug + Default + 'static {
    fn finish(s1: &ExactSum, s2: &SquareSum, n: u64) -> f64;
}

/// The invertible monoid over `Moments` shared by var_pop and stddev_pop; empty is
/// null.
#[derive(Debug, Clone, Copy, Default)]
pub struct MomentsAgg<F: MomentFinish>(pub F);

impl<F: MomentFinish> Aggregation for MomentsAgg<F> {
    type State = Moments;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> Moments {
        Moments::default()
    }

    fn combine(&self, into: &mut Moments, other: &Moments) {
        into.merge(other, false);
    }

    fn finish(&self, s: &Moments) -> Result<Value, AggError> {
        if s.n == 0 {
            return Ok(Value::Null);
        }
        Ok(Value::Float64(F::finish(&s.s1, &s.s2, s.n)))
    }

    /// avg and float sum: `n` and `s1` are exactly avg's state (both count and sum
    /// the numeric values; the window layer refuses any other).
    fn finish_as(
        &self,
        s: &Moments,
        agg: AggKind,
        input: Option<DataType>,
    ) -> Option<Result<Value, AggError>> {
        match agg {
            AggKind::Avg => Some(Ok(avg_value(&s.s1, s.n))),
            _ => sum_as(&s.s1, agg, input),
        }
    }

    #[inline]
    fn insert(&self, s: &mut Moments, _ts: i64, v: &Value) {
        s.put(v, false);
    }

    fn state_bytes(&self, s: &Moments) -> usize {
        s.approx_bytes()
    }

    #[inline]
    fn prefetch_state(&self, s: &Moments) {
        s.s1.prefetch();
        s.s2.prefetch();
    }

    #[inline]
    fn fold_run<R: ValueRun>(&self, s: &mut Moments, run: &R, insert: bool) -> bool {
        run.each_f64(|x| s.put(&Value::Float64(x), !insert))
    }
}

impl<F: MomentFinish> Invertible for MomentsAgg<F> {
    #[inline]
    fn remove(&self, s: &mut Moments, _ts: i64, v: &Value) {
        s.put(v, true);
    }

    fn uncombine(&self, from: &mut Moments, other: &Moments) {
        from.merge(other, true);
    }
}

impl Persist for Moments {
    fn save(&self, w: &mut Writer) {
        w.u64(self.n);
        self.s1.save(w);
        self.s2.save(w);
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(Moments {
            n: r.u64()?,
            s1: ExactSum::load(r)?,
            s2: SquareSum::load(r)?,
        })
    }
}
