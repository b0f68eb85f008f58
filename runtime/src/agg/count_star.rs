//! `count(*)`: the number of events (rows that passed the filters).

use super::{AggError, Aggregation, Invertible};
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct CountStar;

impl Aggregation for CountStar {
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
    fn insert(&self, s: &mut u64, _ts: i64, _v: &Value) {
        *s = s.wrapping_add(1);
    }

    fn state_bytes(&self, _s: &u64) -> usize {
        8
    }
}

impl Invertible for CountStar {
    #[inline]
    fn remove(&self, s: &mut u64, _ts: i64, _v: &Value) {
        *s = s.wrapping_sub(1);
    }

    fn uncombine(&self, from: &mut u64, other: &u64) {
        *from = from.wrapping_sub(*other);
    }
}
