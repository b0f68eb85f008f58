//! `AsFloat`: an aggregation over float64 fed decimals, each converted to the nearest
//! float64 first (`var_pop` and `stddev_pop` of a decimal, semantics.md "Decimals").

use super::{AggError, Aggregation, Invertible};
use crate::row::decimal::to_f64;
use crate::value::Value;

#[derive(Debug, Clone, Copy, Default)]
pub struct AsFloat<A>(pub A);

/// A decimal as the float64 nearest it; anything else as it is.
#[inline]
fn float(v: &Value) -> Value {
    match v.as_decimal() {
        Some((u, s)) => Value::Float64(to_f64(u, s)),
        None => v.clone(),
    }
}

impl<A: Aggregation> Aggregation for AsFloat<A> {
    type State = A::State;
    const INVERTIBLE: bool = A::INVERTIBLE;

    fn identity(&self) -> A::State {
        self.0.identity()
    }

    fn combine(&self, into: &mut A::State, other: &A::State) {
        self.0.combine(into, other);
    }

    fn finish(&self, s: &A::State) -> Result<Value, AggError> {
        self.0.finish(s)
    }

    #[inline]
    fn insert(&self, s: &mut A::State, ts: i64, v: &Value) {
        self.0.insert(s, ts, &float(v));
    }

    fn state_bytes(&self, s: &A::State) -> usize {
        self.0.state_bytes(s)
    }

    fn shrink_state(&self, s: &mut A::State) {
        self.0.shrink_state(s);
    }
}

impl<A: Invertible> Invertible for AsFloat<A> {
    #[inline]
    fn remove(&self, s: &mut A::State, ts: i64, v: &Value) {
        self.0.remove(s, ts, &float(v));
    }

    fn uncombine(&self, from: &mut A::State, other: &A::State) {
        self.0.uncombine(from, other);
    }
}
