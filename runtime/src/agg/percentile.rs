//! `percentile(x, p)` and `median(x)` (`p = 0.5`): the nearest-rank percentile, the
//! value of rank `ceil(p * n)` (at least 1) among the `n` non-null values sorted by
//! the featc total order; null when empty. Exact: it is one of the values, whatever
//! their type, and never an interpolation.
//!
//! Values are kept as order-preserving words (`Word`: the featc total order). A small
//! multiset is a sorted vector (the percentile is an index). A large one is an
//! order-statistic split: `lower` holds the `rank(n)` smallest values and `upper` the
//! rest, each a sorted map of word to multiplicity; inserting or removing a value and
//! moving the boundary back to `rank(n)` costs O(log n), and the percentile is the
//! greatest key of `lower`. Removal is exact, so windows retract leaving events
//! instead of re-sorting on a read.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use super::{AggError, Aggregation, Invertible, ValueRun, Word};
use crate::ir::Quantile;
use crate::snapshot::{vec_with_capacity, Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

/// The aggregation for one `p`, over values of one type as order-preserving words.
#[derive(Debug, Clone, Copy)]
pub struct Percentile<W: Word> {
    q: Quantile,
    word: PhantomData<W>,
}

impl<W: Word> Percentile<W> {
    pub fn new(q: Quantile) -> Percentile<W> {
        Percentile {
            q,
            word: PhantomData,
        }
    }
}

/// More values than this leave the sorted vector for the split (and come back below
/// half of it): a per-entity window usually holds few values, where a sorted vector
/// is the fastest order statistic there is, and a hot entity's large window stays
/// O(log n) per event.
const SMALL: usize = 256;

/// The multiset of a window's values (as words): a sorted vector while small, else
/// the split of the module's docs. Which one holds the values changes speed only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RankState {
    small: Vec<u64>,
    split: Option<Split>,
}

/// Every key of `lower` is at most every key of `upper`, and `n_lower == rank(n)`
/// between operations.
#[derive(Debug, Clone, Default, PartialEq)]
struct Split {
    lower: BTreeMap<u64, u64>,
    n_lower: u64,
    upper: BTreeMap<u64, u64>,
    n_upper: u64,
}

fn add(map: &mut BTreeMap<u64, u64>, n: &mut u64, key: u64, count: u64) {
    *map.entry(key).or_insert(0) += count;
    *n += count;
}

/// Takes up to `count` of `key` out of `map`; how many there were to take.
fn take(map: &mut BTreeMap<u64, u64>, n: &mut u64, key: u64, count: u64) -> u64 {
    let Some(c) = map.get_mut(&key) else { return 0 };
    let taken = (*c).min(count);
    *c -= taken;
    if *c == 0 {
        map.remove(&key);
    }
    *n -= taken;
    taken
}

impl Split {
    /// Adds `count` of `k` on the side that keeps the split sorted.
    fn place(&mut self, k: u64, count: u64) {
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
    fn unplace(&mut self, k: u64, count: u64) {
        let mut left = count;
        if self
            .lower
            .last_key_value()
            .is_some_and(|(max, _)| k <= *max)
        {
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
            let Some((&k, &c)) = self.lower.last_key_value() else {
                break;
            };
            let want = c.min(self.n_lower - target);
            let moved = take(&mut self.lower, &mut self.n_lower, k, want);
            add(&mut self.upper, &mut self.n_upper, k, moved);
        }
        while self.n_lower < target {
            let Some((&k, &c)) = self.upper.first_key_value() else {
                break;
            };
            let want = c.min(target - self.n_lower);
            let moved = take(&mut self.upper, &mut self.n_upper, k, want);
            add(&mut self.lower, &mut self.n_lower, k, moved);
        }
    }

    fn len(&self) -> u64 {
        self.n_lower + self.n_upper
    }
}

impl RankState {
    fn insert(&mut self, w: u64, count: u64, q: Quantile) {
        match &mut self.split {
            Some(s) => {
                s.place(w, count);
                s.balance(q);
            }
            None => {
                let at = self.small.partition_point(|&x| x <= w);
                if count == 1 {
                    self.small.insert(at, w);
                } else {
                    self.small
                        .splice(at..at, std::iter::repeat_n(w, count as usize));
                }
                if self.small.len() > SMALL {
                    self.make_split(q);
                }
            }
        }
    }

    fn remove(&mut self, w: u64, count: u64, q: Quantile) {
        match &mut self.split {
            Some(s) => {
                s.unplace(w, count);
                s.balance(q);
                if s.len() < (SMALL / 2) as u64 {
                    self.make_small();
                }
            }
            None => {
                let from = self.small.partition_point(|&x| x < w);
                if count == 1 {
                    if self.small.get(from) == Some(&w) {
                        self.small.remove(from);
                    }
                } else {
                    let to = self.small.partition_point(|&x| x <= w);
                    let n = (to - from).min(count as usize);
                    self.small.drain(from..from + n);
                }
            }
        }
    }

    fn make_split(&mut self, q: Quantile) {
        let mut split = Split::default();
        for &w in &self.small {
            add(&mut split.upper, &mut split.n_upper, w, 1);
        }
        split.balance(q);
        self.small = Vec::new();
        self.split = Some(split);
    }

    fn make_small(&mut self) {
        if let Some(s) = self.split.take() {
            for (&w, &c) in s.lower.iter().chain(s.upper.iter()) {
                self.small.extend(std::iter::repeat_n(w, c as usize));
            }
        }
    }

    /// The word at the percentile's rank; `None` when empty.
    fn pick(&self, q: Quantile) -> Option<u64> {
        match &self.split {
            Some(s) => s.lower.last_key_value().map(|(&k, _)| k),
            None => {
                let n = self.small.len() as u64;
                if n == 0 {
                    return None;
                }
                self.small.get((q.rank(n) - 1) as usize).copied()
            }
        }
    }

    /// (word, multiplicity) in order.
    fn entries(&self) -> Vec<(u64, u64)> {
        match &self.split {
            Some(s) => s
                .lower
                .iter()
                .chain(s.upper.iter())
                .map(|(&k, &c)| (k, c))
                .collect(),
            None => {
                let mut out: Vec<(u64, u64)> = Vec::new();
                for &w in &self.small {
                    match out.last_mut() {
                        Some((k, c)) if *k == w => *c += 1,
                        _ => out.push((w, 1)),
                    }
                }
                out
            }
        }
    }
}

impl<W: Word> Aggregation for Percentile<W> {
    type State = RankState;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> RankState {
        RankState::default()
    }

    fn combine(&self, into: &mut RankState, other: &RankState) {
        for (w, c) in other.entries() {
            into.insert(w, c, self.q);
        }
    }

    fn finish(&self, s: &RankState) -> Result<Value, AggError> {
        Ok(s.pick(self.q).map_or(Value::Null, W::value))
    }

    #[inline]
    fn insert(&self, s: &mut RankState, _ts: i64, v: &Value) {
        if let Some(w) = W::ordered(v) {
            s.insert(w, 1, self.q);
        }
    }

    fn state_bytes(&self, s: &RankState) -> usize {
        match &s.split {
            // A B-tree entry: two words and about a third of a node's overhead.
            Some(split) => 64 + (split.lower.len() + split.upper.len()) * 32,
            None => 48 + s.small.capacity() * 8,
        }
    }

    fn shrink_state(&self, s: &mut RankState) {
        if s.split.is_none() {
            s.small.shrink_to_fit();
        }
    }

    /// Numbers are stored as words: a run is folded without making a `Value` per event.
    #[inline]
    fn fold_run<R: ValueRun>(&self, s: &mut RankState, run: &R, insert: bool) -> bool {
        let q = self.q;
        run.each_word(W::TYPE, |_ts, _seq, stored| {
            let w = W::from_stored(stored);
            if insert {
                s.insert(w, 1, q);
            } else {
                s.remove(w, 1, q);
            }
        })
    }
}

impl<W: Word> Invertible for Percentile<W> {
    #[inline]
    fn remove(&self, s: &mut RankState, _ts: i64, v: &Value) {
        if let Some(w) = W::ordered(v) {
            s.remove(w, 1, self.q);
        }
    }

    fn uncombine(&self, from: &mut RankState, other: &RankState) {
        for (w, c) in other.entries() {
            from.remove(w, c, self.q);
        }
    }
}

/// The multiset as (word, multiplicity) in order, whichever form held it, and for a
/// split where it was (`n_lower`): a loaded state is the saved one, not a rebuilt one
/// (the quantile belongs to the aggregation, not to the state).
impl Persist for RankState {
    fn save(&self, w: &mut Writer) {
        let entries = self.entries();
        w.usize(entries.len());
        for (k, c) in entries {
            w.u64(k);
            w.u64(c);
        }
        w.u8(u8::from(self.split.is_some()));
        match &self.split {
            Some(s) => w.u64(s.n_lower),
            // Memory accounting reads the vector's capacity: a restored state keeps it.
            None => w.usize(self.small.capacity()),
        }
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let malformed = |m: &str| SnapshotError::Malformed(format!("a percentile state {m}"));
        let n = r.count(2)?;
        let mut entries = Vec::with_capacity(n);
        let mut total: u64 = 0;
        for _ in 0..n {
            let (k, c) = (r.u64()?, r.u64()?);
            if c == 0 || entries.last().is_some_and(|&(prev, _)| prev >= k) {
                return Err(malformed("out of order"));
            }
            total = total.checked_add(c).ok_or_else(|| malformed("too large"))?;
            entries.push((k, c));
        }
        match r.u8()? {
            0 => {
                if total > (SMALL as u64) * 2 {
                    return Err(malformed("too large for its vector"));
                }
                let mut small = vec_with_capacity(r.capacity(total as usize)?)?;
                for (k, c) in entries {
                    small.extend(std::iter::repeat_n(k, c as usize));
                }
                Ok(RankState { small, split: None })
            }
            1 => {
                // The split as it was: the `n_lower` smallest values in `lower`.
                let mut n_lower = r.u64()?;
                if n_lower > total {
                    return Err(malformed("with a split beyond its values"));
                }
                let mut split = Split::default();
                for (k, c) in entries {
                    let low = c.min(n_lower);
                    if low > 0 {
                        add(&mut split.lower, &mut split.n_lower, k, low);
                    }
                    if c > low {
                        add(&mut split.upper, &mut split.n_upper, k, c - low);
                    }
                    n_lower -= low;
                }
                Ok(RankState {
                    small: Vec::new(),
                    split: Some(split),
                })
            }
            b => Err(malformed(&format!("with tag {b}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::{F64Word, I64Word};

    fn q(text: &str) -> Quantile {
        Quantile::from_decimal(text).unwrap_or(Quantile::MEDIAN)
    }

    #[test]
    fn nearest_rank_over_inserts_and_removals() {
        let median = Percentile::<I64Word>::new(q("0.5"));
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
        let p0 = Percentile::<F64Word>::new(q("0"));
        let p1 = Percentile::<F64Word>::new(q("1"));
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
    fn a_large_multiset_answers_like_a_small_one_and_survives_a_snapshot() {
        let p = Percentile::<I64Word>::new(q("0.9"));
        let mut s = p.identity();
        let mut values: Vec<i64> = Vec::new();
        for i in 0..1000i64 {
            let x = (i * 7919) % 613 - 300;
            p.insert(&mut s, 0, &Value::Int64(x));
            values.push(x);
            if i % 3 == 0 {
                let gone = values.remove(0);
                p.remove(&mut s, 0, &Value::Int64(gone));
            }
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let rank = q("0.9").rank(sorted.len() as u64) as usize;
            let want = sorted
                .get(rank - 1)
                .map_or(Value::Null, |&x| Value::Int64(x));
            assert_eq!(p.finish(&s), Ok(want), "after {i}");
        }
        assert!(s.split.is_some());
        let mut w = Writer::new();
        s.save(&mut w);
        let bytes = w.into_bytes();
        let loaded = RankState::load(&mut Reader::new(&bytes));
        assert!(loaded.as_ref().is_ok_and(|l| *l == s), "{:?}", loaded.err());
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
