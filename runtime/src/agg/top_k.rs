//! `top_k(x, k)`: the `k` most frequent non-null values with their counts, most
//! frequent first, a tie on count broken by the smaller value (the featc total
//! order); fewer when fewer distinct values are folded; the empty list when empty.
//! Values are grouped as `count_distinct` groups them (SQL equality: `-0.0` and
//! `+0.0` are one value, reported as `+0.0`; every NaN is one value, reported as the
//! canonical NaN).
//!
//! The state is the count of each value and an index of `(count, value)` in the
//! list's order: inserting or removing an event moves one value in the index
//! (O(log n)), so windows retract exactly, and a read walks the first `k` entries
//! of the index (O(k), no sort).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::count_distinct::distinct_key;
use super::{AggError, Aggregation, Invertible};
use crate::ir::Scalar;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::{List, Value, ValueKey};

/// The `k` most frequent values, over inputs of type `item`.
#[derive(Debug, Clone, Copy)]
pub struct TopK {
    k: u32,
    item: Scalar,
}

impl TopK {
    pub fn new(k: u32, item: Scalar) -> TopK {
        TopK { k, item }
    }
}

/// Invariant: `index` holds `(Reverse(c), v)` exactly for the entries `v -> c` of
/// `counts`, and no count is zero.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopState {
    counts: BTreeMap<ValueKey, u64>,
    index: BTreeSet<(Reverse<u64>, ValueKey)>,
}

impl TopState {
    /// Adds `n` occurrences of the (grouping) key `v`; with `add == false` takes up to
    /// `n` away.
    fn change(&mut self, v: ValueKey, n: u64, add: bool) {
        let old = self.counts.get(&v).copied().unwrap_or(0);
        let new = if add {
            old.saturating_add(n)
        } else {
            old.saturating_sub(n)
        };
        if old == new {
            return;
        }
        if old > 0 {
            self.index.remove(&(Reverse(old), v.clone()));
        }
        if new > 0 {
            self.index.insert((Reverse(new), v.clone()));
            self.counts.insert(v, new);
        } else {
            self.counts.remove(&v);
        }
    }
}

impl Aggregation for TopK {
    type State = TopState;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> TopState {
        TopState::default()
    }

    fn combine(&self, into: &mut TopState, other: &TopState) {
        for (v, c) in &other.counts {
            into.change(v.clone(), *c, true);
        }
    }

    fn finish(&self, s: &TopState) -> Result<Value, AggError> {
        let top = s.index.iter().take(self.k as usize);
        let (items, counts) = top
            .map(|(Reverse(c), v)| (v.0.clone(), i64::try_from(*c).unwrap_or(i64::MAX)))
            .unzip();
        Ok(Value::List(Arc::new(List {
            item: self.item,
            items,
            counts: Some(counts),
        })))
    }

    #[inline]
    fn insert(&self, s: &mut TopState, _ts: i64, v: &Value) {
        if !v.is_null() {
            s.change(distinct_key(v), 1, true);
        }
    }

    fn state_bytes(&self, s: &TopState) -> usize {
        // Two B-tree entries per value: the key, the count and about a third of a
        // node's overhead each.
        48 + s.counts.len() * 2 * (std::mem::size_of::<(ValueKey, u64)>() + 16)
    }
}

impl Invertible for TopK {
    #[inline]
    fn remove(&self, s: &mut TopState, _ts: i64, v: &Value) {
        if !v.is_null() {
            s.change(distinct_key(v), 1, false);
        }
    }

    fn uncombine(&self, from: &mut TopState, other: &TopState) {
        for (v, c) in &other.counts {
            from.change(v.clone(), *c, false);
        }
    }
}

/// The counts in value order; the index is rebuilt from them.
impl Persist for TopState {
    fn save(&self, w: &mut Writer) {
        w.usize(self.counts.len());
        for (v, c) in &self.counts {
            v.save(w);
            w.u64(*c);
        }
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let malformed = |m: &str| SnapshotError::Malformed(format!("a top_k state {m}"));
        let n = r.count(2)?;
        let mut s = TopState::default();
        let mut last: Option<ValueKey> = None;
        for _ in 0..n {
            let v = ValueKey::load(r)?;
            let c = r.u64()?;
            if c == 0 || v.0.is_null() || last.as_ref().is_some_and(|l| *l >= v) {
                return Err(malformed("out of order"));
            }
            if distinct_key(&v.0) != v {
                return Err(malformed("with a value it does not group under"));
            }
            last = Some(v.clone());
            s.change(v, c, true);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(s: &TopState, k: u32) -> Vec<(Value, i64)> {
        match TopK::new(k, Scalar::Float64).finish(s) {
            Ok(Value::List(l)) => l
                .items
                .iter()
                .cloned()
                .zip(l.counts.clone().unwrap_or_default())
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn counts_under_sql_equality_and_retracts() {
        let agg = TopK::new(2, Scalar::Float64);
        let mut s = agg.identity();
        for x in [-0.0, 0.0, f64::NAN, -f64::NAN, 1.0, 2.0, 2.0] {
            agg.insert(&mut s, 0, &Value::Float64(x));
        }
        // Three values twice: 0.0 (from -0.0 and +0.0), 2.0 and NaN; by value: 0 < 2 < NaN.
        let got = top(&s, 2);
        assert_eq!(got.len(), 2);
        assert!(matches!(got[0], (Value::Float64(z), 2) if z.to_bits() == 0.0f64.to_bits()));
        assert_eq!(got[1], (Value::Float64(2.0), 2));
        agg.remove(&mut s, 0, &Value::Float64(0.0));
        agg.remove(&mut s, 0, &Value::Float64(2.0));
        let got = top(&s, 3);
        assert!(matches!(got[0], (Value::Float64(n), 2) if n.is_nan()));
        assert_eq!(got.len(), 3);
        let mut w = Writer::new();
        s.save(&mut w);
        let bytes = w.into_bytes();
        assert_eq!(TopState::load(&mut Reader::new(&bytes)), Ok(s));
    }
}
