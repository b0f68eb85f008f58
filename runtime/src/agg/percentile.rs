//! `percentile(x, p)` and `median(x)` (`p = 0.5`): the nearest-rank percentile, the
//! value of rank `ceil(p * n)` (at least 1) among the `n` non-null values sorted by
//! the featc total order; null when empty. Exact: it is one of the values, whatever
//! their type, and never an interpolation.
//!
//! Values are kept as order-preserving words (`Word`: the featc total order) in a
//! sorted multiset (`RankState`: inline words while few, one sorted vector while
//! small, sorted chunks when large); the percentile is the word at its rank. Removal
//! is exact, so windows retract leaving events instead of re-sorting on a read. A fold
//! run's words go in (or out) sorted, in one pass over the multiset.

use std::marker::PhantomData;

use super::rank_state::{RankState, RunWords};
use super::{AggError, Aggregation, Invertible, ValueRun, Word};
use crate::ir::Quantile;
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

impl<W: Word> Aggregation for Percentile<W> {
    type State = RankState;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> RankState {
        RankState::default()
    }

    fn combine(&self, into: &mut RankState, other: &RankState) {
        for (w, c) in other.entries() {
            into.insert(w, c);
        }
    }

    fn finish(&self, s: &RankState) -> Result<Value, AggError> {
        let n = s.len();
        let picked = (n > 0).then(|| s.at_rank(self.q.rank(n))).flatten();
        Ok(picked.map_or(Value::Null, W::value))
    }

    #[inline]
    fn insert(&self, s: &mut RankState, _ts: i64, v: &Value) {
        if let Some(w) = W::ordered(v) {
            s.insert(w, 1);
        }
    }

    fn state_bytes(&self, s: &RankState) -> usize {
        s.bytes()
    }

    fn shrink_state(&self, s: &mut RankState) {
        s.shrink()
    }

    #[inline]
    fn prefetch_state(&self, s: &RankState) {
        s.prefetch();
    }

    /// Numbers are stored as words: a run is folded without making a `Value` per event,
    /// its words gathered, sorted and merged into (or taken out of) the multiset in one
    /// ordered pass (`RunWords`) rather than searched for one by one.
    #[inline]
    fn fold_run<R: ValueRun>(&self, s: &mut RankState, run: &R, insert: bool) -> bool {
        let mut gathered = RunWords::new();
        let typed = run.each_word(W::TYPE, |_ts, _seq, stored| {
            gathered.push(s, W::from_stored(stored), insert);
        });
        gathered.flush(s, insert);
        typed
    }
}

impl<W: Word> Invertible for Percentile<W> {
    #[inline]
    fn remove(&self, s: &mut RankState, _ts: i64, v: &Value) {
        if let Some(w) = W::ordered(v) {
            s.remove(w, 1);
        }
    }

    fn uncombine(&self, from: &mut RankState, other: &RankState) {
        for (w, c) in other.entries() {
            from.remove(w, c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::{F64Word, I64Word};
    use crate::snapshot::{Persist, Reader, Writer};
    use featc_test_support::rng::SplitMix64;

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
        assert!(s.len() > super::super::rank_state::SMALL as u64);
        let mut w = Writer::new();
        s.save(&mut w);
        let bytes = w.into_bytes();
        let loaded = RankState::load(&mut Reader::new(&bytes));
        assert!(loaded.as_ref().is_ok_and(|l| *l == s), "{:?}", loaded.err());
    }

    /// A run of int64 values as the event buffer stores them (their bits), for
    /// `fold_run`; not words of any other type.
    struct Ints(Vec<i64>);

    impl ValueRun for Ints {
        fn events(&self) -> u64 {
            self.0.len() as u64
        }
        fn non_null(&self) -> Option<u64> {
            Some(self.0.len() as u64)
        }
        fn trues(&self) -> Option<u64> {
            None
        }
        fn each_f64(&self, _f: impl FnMut(f64)) -> bool {
            false
        }
        fn each_word(&self, ty: crate::ir::DataType, mut f: impl FnMut(i64, u64, u64)) -> bool {
            if ty != crate::ir::DataType::Int64 {
                return false;
            }
            for (i, &x) in self.0.iter().enumerate() {
                f(i as i64, i as u64, x as u64);
            }
            true
        }
        fn each_value<'s>(&'s self, _f: impl FnMut(i64, u64, &'s Value)) -> bool {
            false
        }
        fn last_event(&self) -> Option<(i64, u64)> {
            self.0.len().checked_sub(1).map(|i| (i as i64, i as u64))
        }
    }

    /// Runs folded in and out whole (longer than the gathering buffer too) answer as
    /// the same values inserted and removed one by one do, snapshots included.
    #[test]
    fn folded_runs_answer_like_values_one_by_one() {
        let quantiles = ["0", "0.5", "0.95", "1"].map(q);
        let ps = quantiles.map(Percentile::<I64Word>::new);
        let mut folded = RankState::default();
        let mut one_by_one = RankState::default();
        let mut held: std::collections::VecDeque<i64> = Default::default();
        let mut rng = SplitMix64::new(3);
        for step in 0..600 {
            let x = rng.next_u64();
            let len = [1, 3, 64, 130, 300][(x >> 40) as usize % 5];
            let run: Vec<i64> = (0..len)
                .map(|k| ((x >> 20) as i64 + k * 7919) % 997 - 500)
                .collect();
            assert!(ps[0].fold_run(&mut folded, &Ints(run.clone()), true));
            for &v in &run {
                ps[0].insert(&mut one_by_one, 0, &Value::Int64(v));
                held.push_back(v);
            }
            // The oldest leave, as a window's do, in a run of their own.
            let out = held.len().saturating_sub(1500 + (step % 7) * 100);
            let gone: Vec<i64> = held.drain(..out).collect();
            assert!(ps[0].fold_run(&mut folded, &Ints(gone.clone()), false));
            for &v in &gone {
                ps[0].remove(&mut one_by_one, 0, &Value::Int64(v));
            }
            assert_eq!(folded.entries(), one_by_one.entries(), "step {step}");
            for p in &ps {
                assert_eq!(p.finish(&folded), p.finish(&one_by_one), "step {step}");
            }
        }
        // Not int64 words: nothing folded, the caller goes value by value.
        let floats = Percentile::<F64Word>::new(q("0.5"));
        let before = folded.clone();
        assert!(!floats.fold_run(&mut folded, &Ints(vec![1, 2]), true));
        assert_eq!(folded, before);
        let mut w = Writer::new();
        folded.save(&mut w);
        let bytes = w.into_bytes();
        let loaded = RankState::load(&mut Reader::new(&bytes));
        assert!(
            loaded.as_ref().is_ok_and(|l| *l == folded),
            "{:?}",
            loaded.err()
        );
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
