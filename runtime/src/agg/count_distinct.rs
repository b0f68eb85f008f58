//! `count_distinct(x)`: the number of distinct non-null values, exact, under SQL's
//! equality (`-0.0` and `+0.0` are one value, as `=` and `in` say; all NaNs are one).

use datafusion::common::HashMap;

use super::{AggError, Aggregation, Invertible, ValueRun};
use crate::value::{Value, ValueKey};

#[derive(Debug, Clone, Copy, Default)]
pub struct CountDistinct;

/// Value -> multiplicity; a value leaves the map when its multiplicity reaches zero,
/// so `len()` is the distinct count and removal is exact. (DataFusion's hashbrown map
/// with foldhash: every windowed event goes through it twice, and SipHash showed in
/// the stream profile.)
pub type DistinctState = HashMap<ValueKey, u64>;

/// The key `v` is counted under: `Value::canonical` (one NaN), with `-0.0` as `+0.0`.
#[inline]
fn distinct_key(v: &Value) -> ValueKey {
    match v {
        Value::Float64(x) if *x == 0.0 => ValueKey(Value::Float64(0.0)),
        v => ValueKey(v.canonical()),
    }
}

impl Aggregation for CountDistinct {
    type State = DistinctState;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> DistinctState {
        HashMap::new()
    }

    fn combine(&self, into: &mut DistinctState, other: &DistinctState) {
        for (k, c) in other {
            *into.entry(k.clone()).or_insert(0) += c;
        }
    }

    fn finish(&self, s: &DistinctState) -> Result<Value, AggError> {
        Ok(Value::Int64(s.len() as i64))
    }

    #[inline]
    fn insert(&self, s: &mut DistinctState, _ts: i64, v: &Value) {
        if !v.is_null() {
            *s.entry(distinct_key(v)).or_insert(0) += 1;
        }
    }

    fn state_bytes(&self, s: &DistinctState) -> usize {
        48 + s.capacity() * (std::mem::size_of::<(ValueKey, u64)>() + 8)
    }

    /// Values kept whole (strings) are counted in one loop over the borrowed cells.
    #[inline]
    fn fold_run<R: ValueRun>(&self, s: &mut DistinctState, run: &R, insert: bool) -> bool {
        run.each_value(|ts, _seq, v| {
            if insert {
                self.insert(s, ts, v);
            } else {
                self.remove(s, ts, v);
            }
        })
    }
}

impl Invertible for CountDistinct {
    fn remove(&self, s: &mut DistinctState, _ts: i64, v: &Value) {
        if v.is_null() {
            return;
        }
        let key = distinct_key(v);
        if let Some(c) = s.get_mut(&key) {
            *c -= 1;
            if *c == 0 {
                s.remove(&key);
            }
        }
    }

    fn uncombine(&self, from: &mut DistinctState, other: &DistinctState) {
        for (k, c) in other {
            if let Some(m) = from.get_mut(k) {
                *m = m.saturating_sub(*c);
                if *m == 0 {
                    from.remove(k);
                }
            }
        }
    }
}
