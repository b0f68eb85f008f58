//! `percentile(x, p)` and `median(x)` (`p = 0.5`): the nearest-rank percentile, the
//! value of rank `ceil(p * n)` (at least 1) among the `n` non-null values sorted by
//! the featc total order; null when empty. Exact: it is one of the values, whatever
//! their type, and never an interpolation.
//!
//! The state is an order-statistic split of the multiset: `lower` holds the
//! `rank(n)` smallest values and `upper` the rest, each a sorted map of value to
//! multiplicity. Inserting or removing a value and moving the boundary back to
//! `rank(n)` costs O(log n); the percentile is the greatest key of `lower`. Removal is
//! exact, so windows retract leaving events instead of re-sorting on a read.

use std::collections::BTreeMap;

use super::{AggError, Aggregation, Invertible, ValueRun};
use crate::ir::Quantile;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::{Value, ValueKey};

/// The aggregation for one `p`.
#[derive(Debug, Clone, Copy)]
pub struct Percentile {
    q: Quantile,
}

impl Percentile {
    pub fn new(q: Quantile) -> Percentile {
        Percentile { q }
    }
}

/// See the module: every key of `lower` is at most every key of `upper`, and
/// `n_lower == rank(n_lower + n_upper)` between operations (0 when empty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RankState {
    lower: BTreeMap<ValueKey, u64>,
    n_lower: u64,
    upper: BTreeMap<ValueKey, u64>,
    n_upper: u64,
}

fn add(map: &mut BTreeMap<ValueKey, u64>, n: &mut u64, key: ValueKey, count: u64) {
    *map.entry(key).or_insert(0) += count;
    *n += count;
}

/// Takes up to `count` of `key` out of `map`; how many there were to take.
fn take(map: &mut BTreeMap<ValueKey, u64>, n: &mut u64, key: &ValueKey, count: u64) -> u64 {
    let Some(c) = map.get_mut(key) else { return 0 };
    let taken = (*c).min(count);
    *c -= taken;
    if *c == 0 {
        map.remove(key);
    }
    *n -= taken;
    taken
}

/// The key a value is ordered by (one NaN, as min and max order them).
#[inline]
fn key(v: &Value) -> ValueKey {
    ValueKey(v.canonical())
}

impl RankState {
    /// Adds `count` of `k` on the side that keeps the split sorted.
    fn place(&mut self, k: ValueKey, count: u64) {
        if self
            .lower
            .last_key_value()
            .is_some_and(|(max, _)| k <= *max)
        {
            add(&mut self.lower, &mut self.n_lower, k, count);
        } else {
            add(&mut self.upper, &mut self.n_upper, k, count);
        }
    }

    /// Takes `count` of `k` out (from `lower` first when it could be there).
    fn unplace(&mut self, k: &ValueKey, count: u64) {
        let mut left = count;
        if self.lower.last_key_value().is_some_and(|(max, _)| k <= max) {
            left -= take(&mut self.lower, &mut self.n_lower, k, left);
        }
        if left > 0 {
            take(&mut self.upper, &mut self.n_upper, k, left);
        }
    }

    /// Moves values across the split until `lower` holds `rank(n)` of them.
    fn balance(&mut self, q: Quantile) {
        let n = self.n_lower + self.n_upper;
        let target = if n == 0 { 0 } else { q.rank(n) };
        while self.n_lower > target {
            let Some((k, &c)) = self.lower.last_key_value() else {
                break;
            };
            let (k, want) = (k.clone(), c.min(self.n_lower - target));
            let moved = take(&mut self.lower, &mut self.n_lower, &k, want);
            add(&mut self.upper, &mut self.n_upper, k, moved);
        }
        while self.n_lower < target {
            let Some((k, &c)) = self.upper.first_key_value() else {
                break;
            };
            let (k, want) = (k.clone(), c.min(target - self.n_lower));
            let moved = take(&mut self.upper, &mut self.n_upper, &k, want);
            add(&mut self.lower, &mut self.n_lower, k, moved);
        }
    }

    fn entries(&self) -> impl Iterator<Item = (&ValueKey, &u64)> {
        self.lower.iter().chain(self.upper.iter())
    }
}

impl Aggregation for Percentile {
    type State = RankState;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> RankState {
        RankState::default()
    }

    fn combine(&self, into: &mut RankState, other: &RankState) {
        for (k, &c) in other.entries() {
            into.place(k.clone(), c);
        }
        into.balance(self.q);
    }

    fn finish(&self, s: &RankState) -> Result<Value, AggError> {
        Ok(s.lower
            .last_key_value()
            .map_or(Value::Null, |(k, _)| k.0.clone()))
    }

    #[inline]
    fn insert(&self, s: &mut RankState, _ts: i64, v: &Value) {
        if !v.is_null() {
            s.place(key(v), 1);
            s.balance(self.q);
        }
    }

    fn state_bytes(&self, s: &RankState) -> usize {
        // A B-tree entry: the key, the count, and about a third of a node's overhead.
        let entry = std::mem::size_of::<ValueKey>() + 8 + 16;
        64 + (s.lower.len() + s.upper.len()) * entry
    }

    #[inline]
    fn fold_run<R: ValueRun>(&self, s: &mut RankState, run: &R, insert: bool) -> bool {
        run.each_value(|ts, _seq, v| {
            if insert {
                self.insert(s, ts, v);
            } else {
                self.remove(s, ts, v);
            }
        })
    }
}

impl Invertible for Percentile {
    #[inline]
    fn remove(&self, s: &mut RankState, _ts: i64, v: &Value) {
        if !v.is_null() {
            s.unplace(&key(v), 1);
            s.balance(self.q);
        }
    }

    fn uncombine(&self, from: &mut RankState, other: &RankState) {
        for (k, &c) in other.entries() {
            from.unplace(k, c);
        }
        from.balance(self.q);
    }
}

/// Both sides' entries in key order; the counts are recomputed on load and the split
/// checked (a snapshot that breaks it is malformed, not silently re-sorted).
impl Persist for RankState {
    fn save(&self, w: &mut Writer) {
        for side in [&self.lower, &self.upper] {
            w.usize(side.len());
            for (k, c) in side {
                k.save(w);
                w.u64(*c);
            }
        }
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let mut state = RankState::default();
        for upper in [false, true] {
            let n = r.count(2)?;
            for _ in 0..n {
                let k = ValueKey::load(r)?;
                let c = r.u64()?;
                let (map, total) = if upper {
                    (&mut state.upper, &mut state.n_upper)
                } else {
                    (&mut state.lower, &mut state.n_lower)
                };
                if c == 0 || map.contains_key(&k) {
                    return Err(SnapshotError::Malformed(
                        "a percentile state with a repeated or empty value".into(),
                    ));
                }
                *total = total
                    .checked_add(c)
                    .ok_or_else(|| SnapshotError::Malformed("percentile count overflows".into()))?;
                map.insert(k, c);
            }
        }
        let split = match (state.lower.last_key_value(), state.upper.first_key_value()) {
            (Some((a, _)), Some((b, _))) => a <= b,
            _ => true,
        };
        if !split {
            return Err(SnapshotError::Malformed(
                "a percentile state out of order".into(),
            ));
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantile {
        Quantile::from_decimal(text).unwrap_or(Quantile::MEDIAN)
    }

    #[test]
    fn nearest_rank_over_inserts_and_removals() {
        let median = Percentile::new(q("0.5"));
        let mut s = median.identity();
        for x in [5, 1, 4, 2, 3] {
            median.insert(&mut s, 0, &Value::Int64(x));
        }
        assert_eq!(median.finish(&s), Ok(Value::Int64(3)));
        median.insert(&mut s, 0, &Value::Int64(6));
        // Six values: rank ceil(3) = 3, the lower middle.
        assert_eq!(median.finish(&s), Ok(Value::Int64(3)));
        for x in [1, 2, 3] {
            median.remove(&mut s, 0, &Value::Int64(x));
        }
        assert_eq!(median.finish(&s), Ok(Value::Int64(5)));
        let p0 = Percentile::new(q("0"));
        let p1 = Percentile::new(q("1"));
        let mut a = p0.identity();
        let mut b = p1.identity();
        for x in [2.5, -0.0, 0.0, f64::NAN] {
            p0.insert(&mut a, 0, &Value::Float64(x));
            p1.insert(&mut b, 0, &Value::Float64(x));
        }
        // -0.0 sorts before +0.0 (the featc total order, as min and max use it).
        assert!(
            matches!(p0.finish(&a), Ok(Value::Float64(x)) if x.to_bits() == (-0.0f64).to_bits())
        );
        assert!(matches!(p1.finish(&b), Ok(Value::Float64(x)) if x.is_nan()));
        assert_eq!(p0.finish(&p0.identity()), Ok(Value::Null));
    }

    #[test]
    fn quantiles_read_and_print_as_written() {
        for text in ["0", "1", "0.5", "0.95", "0.999", "0.125"] {
            assert_eq!(
                Quantile::from_decimal(text).map(|q| q.to_string()),
                Some(text.to_string())
            );
        }
        assert_eq!(
            Quantile::from_decimal("0.50"),
            Quantile::from_decimal("0.5")
        );
        assert_eq!(Quantile::from_decimal("1.0"), Quantile::from_decimal("1"));
        for bad in ["1.5", "-0.5", ".5", "2", "x", "0.5.5", ""] {
            assert_eq!(Quantile::from_decimal(bad), None, "{bad}");
        }
        assert_eq!(q("0.95").rank(20), 19);
        assert_eq!(q("0.95").rank(21), 20);
        assert_eq!(q("0").rank(7), 1);
        assert_eq!(q("1").rank(7), 7);
    }
}
