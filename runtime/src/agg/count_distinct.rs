//! `count_distinct(x)`: the number of distinct non-null values, exact, under SQL's
//! equality (`-0.0` and `+0.0` are one value, as `=` and `in` say; all NaNs are one).

use datafusion::common::HashMap;

use super::{AggError, Aggregation, Invertible, ValueRun};
use crate::value::{Value, ValueKey};

#[derive(Debug, Clone, Copy, Default)]
pub struct CountDistinct;

/// Value -> multiplicity; a value leaves when its multiplicity reaches zero, so the
/// number of entries is the distinct count and removal is exact. Few distinct values
/// (the usual window) live in a vector searched in place: interned strings compare
/// by pointer first, and nothing is hashed or cloned to find one. Past `SMALL`
/// values the entries move to a hash map (DataFusion's hashbrown with foldhash: every
/// windowed event goes through it twice, and SipHash showed in the stream profile).
#[derive(Debug, Clone, Default)]
pub struct DistinctState {
    small: Vec<(ValueKey, u64)>,
    large: Option<HashMap<ValueKey, u64>>,
}

/// Distinct values kept in the vector before moving to the hash map.
const SMALL: usize = 16;

/// True when `stored` (a `distinct_key`) and `v` count as one value: SQL equality,
/// with every NaN one value.
#[inline]
fn same(stored: &Value, v: &Value) -> bool {
    match (stored, v) {
        (Value::Float64(a), Value::Float64(b)) => a == b || (a.is_nan() && b.is_nan()),
        (a, b) => a.total_eq(b),
    }
}

impl DistinctState {
    /// The index of `v`'s entry in the vector. Interned strings (the stream's) are
    /// found by pointer before any bytes are compared.
    #[inline]
    fn position(&self, v: &Value) -> Option<usize> {
        if let Value::String(a) = v {
            let by_pointer = self
                .small
                .iter()
                .position(|e| matches!(&e.0 .0, Value::String(b) if std::sync::Arc::ptr_eq(a, b)));
            if by_pointer.is_some() {
                return by_pointer;
            }
        }
        self.small.iter().position(|e| same(&e.0 .0, v))
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        match &self.large {
            Some(m) => m.len(),
            None => self.small.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `n` occurrences of non-null `v`.
    #[inline]
    fn add(&mut self, v: &Value, n: u64) {
        if let Some(m) = &mut self.large {
            *m.entry(distinct_key(v)).or_insert(0) += n;
            return;
        }
        if let Some(i) = self.position(v) {
            self.small[i].1 += n;
            return;
        }
        if self.small.len() < SMALL {
            self.small.push((distinct_key(v), n));
            return;
        }
        let mut m: HashMap<ValueKey, u64> = self.small.drain(..).collect();
        m.insert(distinct_key(v), n);
        self.large = Some(m);
    }

    /// Removes up to `n` occurrences of non-null `v` (the value leaves at zero).
    #[inline]
    fn sub(&mut self, v: &Value, n: u64) {
        if let Some(m) = &mut self.large {
            let key = distinct_key(v);
            if let Some(c) = m.get_mut(&key) {
                *c = c.saturating_sub(n);
                if *c == 0 {
                    m.remove(&key);
                }
            }
            return;
        }
        if let Some(i) = self.position(v) {
            let c = &mut self.small[i].1;
            *c = c.saturating_sub(n);
            if *c == 0 {
                self.small.swap_remove(i);
            }
        }
    }

    /// Every (value, multiplicity).
    fn entries(&self) -> Vec<(ValueKey, u64)> {
        match &self.large {
            Some(m) => m.iter().map(|(k, c)| (k.clone(), *c)).collect(),
            None => self.small.clone(),
        }
    }

    fn capacity(&self) -> usize {
        match &self.large {
            Some(m) => m.capacity(),
            None => self.small.capacity(),
        }
    }
}

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
        DistinctState::default()
    }

    fn combine(&self, into: &mut DistinctState, other: &DistinctState) {
        for (k, c) in other.entries() {
            into.add(&k.0, c);
        }
    }

    fn finish(&self, s: &DistinctState) -> Result<Value, AggError> {
        Ok(Value::Int64(s.len() as i64))
    }

    #[inline]
    fn insert(&self, s: &mut DistinctState, _ts: i64, v: &Value) {
        if !v.is_null() {
            s.add(v, 1);
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
        if !v.is_null() {
            s.sub(v, 1);
        }
    }

    fn uncombine(&self, from: &mut DistinctState, other: &DistinctState) {
        for (k, c) in other.entries() {
            from.sub(&k.0, c);
        }
    }
}
