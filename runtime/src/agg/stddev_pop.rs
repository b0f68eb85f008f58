//! `stddev_pop(x)`: population standard deviation, the square root of the exact variance, correctly rounded; float64 for int64 or float64 input; empty is null, any
//! non-finite input gives NaN.

use super::{AggError, Aggregation, Invertible, Moments};
use crate::exact;
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct StddevPop;

impl Aggregation for StddevPop {
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
        Ok(Value::Float64(exact::stddev_pop(&s.s1, &s.s2, s.n)))
    }

    #[inline]
    fn insert(&self, s: &mut Moments, _ts: i64, v: &Value) {
        s.put(v, false);
    }

    fn state_bytes(&self, s: &Moments) -> usize {
        s.approx_bytes()
    }
}

impl Invertible for StddevPop {
    #[inline]
    fn remove(&self, s: &mut Moments, _ts: i64, v: &Value) {
        s.put(v, true);
    }

    fn uncombine(&self, from: &mut Moments, other: &Moments) {
        from.merge(other, true);
    }
}
