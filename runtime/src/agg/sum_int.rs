//! `sum(x)` over int64: exact in i128, int64 result or `IntegerOverflow` when the
//! exact total does not fit (intermediate totals never matter). Empty is 0.

use super::{AggError, Aggregation, Invertible};
use crate::ir::AggKind;
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct SumInt;

impl Aggregation for SumInt {
    /// i128 cannot overflow: that would take 2^64 int64 inputs.
    type State = i128;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> i128 {
        0
    }

    fn combine(&self, into: &mut i128, other: &i128) {
        *into = into.wrapping_add(*other);
    }

    fn finish(&self, s: &i128) -> Result<Value, AggError> {
        i64::try_from(*s)
            .map(Value::Int64)
            .map_err(|_| AggError::IntegerOverflow { agg: AggKind::Sum })
    }

    #[inline]
    fn insert(&self, s: &mut i128, _ts: i64, v: &Value) {
        if let Value::Int64(x) = v {
            *s = s.wrapping_add(*x as i128);
        }
    }

    fn state_bytes(&self, _s: &i128) -> usize {
        16
    }
}

impl Invertible for SumInt {
    #[inline]
    fn remove(&self, s: &mut i128, _ts: i64, v: &Value) {
        if let Value::Int64(x) = v {
            *s = s.wrapping_sub(*x as i128);
        }
    }

    fn uncombine(&self, from: &mut i128, other: &i128) {
        *from = from.wrapping_sub(*other);
    }
}
