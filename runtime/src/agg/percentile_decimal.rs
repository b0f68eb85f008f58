//! `percentile(x, p)` and `median(x)` over `decimal(p, s)`: the nearest rank (as
//! `Percentile`'s docs say) over a sorted multiset of unscaled values, which do not
//! fit `Percentile`'s machine words. A read walks the multiset (O(distinct values)).

use std::collections::BTreeMap;

use super::{AggError, Aggregation, Invertible};
use crate::ir::Quantile;
use crate::snapshot::{Persist, Reader, SnapshotError, Writer};
use crate::value::Value;

#[derive(Debug, Clone, Copy)]
pub struct PercentileDecimal {
    pub q: Quantile,
    pub precision: u8,
    pub scale: u8,
}

/// Each unscaled value with its multiplicity (never zero), and their total.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecimalRanks {
    counts: BTreeMap<i128, u64>,
    n: u64,
}

impl DecimalRanks {
    fn put(&mut self, u: i128, k: u64, remove: bool) {
        if remove {
            if let Some(c) = self.counts.get_mut(&u) {
                *c = c.saturating_sub(k);
                if *c == 0 {
                    self.counts.remove(&u);
                }
                self.n = self.n.saturating_sub(k);
            }
        } else {
            *self.counts.entry(u).or_insert(0) += k;
            self.n += k;
        }
    }
}

impl Persist for DecimalRanks {
    fn save(&self, w: &mut Writer) {
        w.usize(self.counts.len());
        for (u, c) in &self.counts {
            w.i128(*u);
            w.u64(*c);
        }
    }

    fn load(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        // Varints: an entry takes at least three bytes (two words and a count).
        let len = r.count(3)?;
        let mut s = DecimalRanks::default();
        for _ in 0..len {
            let (u, c) = (r.i128()?, r.u64()?);
            s.put(u, c, false);
        }
        Ok(s)
    }
}

impl Aggregation for PercentileDecimal {
    type State = DecimalRanks;
    const INVERTIBLE: bool = true;

    fn identity(&self) -> DecimalRanks {
        DecimalRanks::default()
    }

    fn combine(&self, into: &mut DecimalRanks, other: &DecimalRanks) {
        for (u, c) in &other.counts {
            into.put(*u, *c, false);
        }
    }

    fn finish(&self, s: &DecimalRanks) -> Result<Value, AggError> {
        if s.n == 0 {
            return Ok(Value::Null);
        }
        let rank = self.q.rank(s.n);
        let mut seen = 0u64;
        for (u, c) in &s.counts {
            seen += *c;
            if seen >= rank {
                return Ok(Value::decimal(*u, self.precision, self.scale));
            }
        }
        Ok(Value::Null)
    }

    #[inline]
    fn insert(&self, s: &mut DecimalRanks, _ts: i64, v: &Value) {
        if let Some((u, _)) = v.as_decimal() {
            s.put(u, 1, false);
        }
    }

    fn state_bytes(&self, s: &DecimalRanks) -> usize {
        16 + s.counts.len() * 48
    }
}

impl Invertible for PercentileDecimal {
    #[inline]
    fn remove(&self, s: &mut DecimalRanks, _ts: i64, v: &Value) {
        if let Some((u, _)) = v.as_decimal() {
            s.put(u, 1, true);
        }
    }

    fn uncombine(&self, from: &mut DecimalRanks, other: &DecimalRanks) {
        for (u, c) in &other.counts {
            from.put(*u, *c, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_over_exact_values() {
        let q = |t: &str| Quantile::from_decimal(t).unwrap();
        let p = |t| PercentileDecimal {
            q: q(t),
            precision: 38,
            scale: 2,
        };
        let mut s = DecimalRanks::default();
        let median = p("0.5");
        for u in [5, -3, 7, 7] {
            median.insert(&mut s, 0, &Value::decimal(u, 38, 2));
        }
        // Sorted -3, 5, 7, 7: rank ceil(0.5 * 4) = 2.
        assert_eq!(median.finish(&s), Ok(Value::decimal(5, 38, 2)));
        assert_eq!(p("0").finish(&s), Ok(Value::decimal(-3, 38, 2)));
        assert_eq!(p("1").finish(&s), Ok(Value::decimal(7, 38, 2)));
        median.remove(&mut s, 0, &Value::decimal(-3, 38, 2));
        assert_eq!(median.finish(&s), Ok(Value::decimal(7, 38, 2)));
        assert_eq!(median.finish(&DecimalRanks::default()), Ok(Value::Null));
    }

    /// Regression: the multiset's load asked for 24 bytes an entry, but the
    /// snapshot writes words as varints (the algebra proptests found it).
    #[test]
    fn small_multisets_survive_snapshots() {
        let mut s = DecimalRanks::default();
        s.put(0, 1, false);
        s.put(-(10i128.pow(38) - 1), 2, false);
        let mut w = Writer::new();
        s.save(&mut w);
        let bytes = w.into_bytes();
        assert_eq!(DecimalRanks::load(&mut Reader::new(&bytes)), Ok(s));
    }
}
