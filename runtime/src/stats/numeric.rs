//! One numeric column's accumulator: counts, exact sums (`crate::exact`) for the mean
//! and standard deviation, and the finite values themselves, kept for the exact
//! quantiles and the KS statistic (8 bytes per finite value: the memory limit of
//! `featc stats` and `featc drift`, docs/stats.md).

use datafusion::arrow::array::{Float64Array, Int64Array};

use super::quantile::{nearest_rank, DECILES, QUANTILES};
use super::types::{Bins, Num, NumericStats, QuantileValue};
use crate::exact::{avg, stddev_pop, ExactSum, SquareSum};

/// The values of an int64 or a float64 column.
#[derive(Debug)]
enum Values {
    Int(Vec<i64>),
    Float(Vec<f64>),
}

#[derive(Debug)]
pub struct NumericAcc {
    values: Values,
    sum: ExactSum,
    squares: SquareSum,
    nan: u64,
    pos_inf: u64,
    neg_inf: u64,
}

impl NumericAcc {
    pub fn new(int: bool) -> NumericAcc {
        NumericAcc {
            values: if int {
                Values::Int(Vec::new())
            } else {
                Values::Float(Vec::new())
            },
            sum: ExactSum::new(),
            squares: SquareSum::new(),
            nan: 0,
            pos_inf: 0,
            neg_inf: 0,
        }
    }

    pub fn add_ints(&mut self, a: &Int64Array) {
        if let Values::Int(values) = &mut self.values {
            for x in a.iter().flatten() {
                self.sum.add_i64(x);
                self.squares.put_i64(x, false);
                values.push(x);
            }
        }
    }

    pub fn add_floats(&mut self, a: &Float64Array) {
        if let Values::Float(values) = &mut self.values {
            for x in a.iter().flatten() {
                if x.is_nan() {
                    self.nan += 1;
                } else if x == f64::INFINITY {
                    self.pos_inf += 1;
                } else if x == f64::NEG_INFINITY {
                    self.neg_inf += 1;
                } else {
                    self.sum.add_f64(x);
                    self.squares.put_f64(x, false);
                    values.push(x);
                }
            }
        }
    }

    /// The statistics, and the sorted finite values as float64 (for KS and PSI; an
    /// int64 is exact up to 2^53).
    pub fn finish(self) -> (NumericStats, Vec<f64>) {
        let (min, max, quantiles, sorted) = match self.values {
            Values::Int(mut v) => {
                v.sort_unstable();
                let q = |p| nearest_rank(&v, p).map(Num::Int);
                let quantiles = quantiles_of(q);
                let sorted: Vec<f64> = v.iter().map(|&x| x as f64).collect();
                (
                    v.first().copied().map(Num::Int),
                    v.last().copied().map(Num::Int),
                    quantiles,
                    sorted,
                )
            }
            Values::Float(mut v) => {
                // Finite values only, so total order is numeric order; -0.0 sorts
                // before 0.0, which no statistic tells apart.
                v.sort_unstable_by(f64::total_cmp);
                let q = |p| nearest_rank(&v, p).map(Num::Float);
                let quantiles = quantiles_of(q);
                (
                    v.first().copied().map(Num::Float),
                    v.last().copied().map(Num::Float),
                    quantiles,
                    v,
                )
            }
        };
        let n = sorted.len() as u64;
        let mut edges: Vec<f64> = DECILES
            .iter()
            .filter_map(|&p| nearest_rank(&sorted, p))
            .collect();
        edges.dedup();
        let mut counts = bin_counts(&edges, &sorted);
        // -inf and +inf fall in the end bins, where `v > last edge` and `v <= first edge` put them.
        if let Some(first) = counts.first_mut() {
            *first += self.neg_inf;
        }
        if let Some(last) = counts.last_mut() {
            *last += self.pos_inf;
        }
        let stats = NumericStats {
            finite: n,
            nan: self.nan,
            pos_inf: self.pos_inf,
            neg_inf: self.neg_inf,
            min,
            max,
            mean: (n > 0).then(|| avg(&self.sum, n)),
            stddev: (n > 0).then(|| stddev_pop(&self.sum, &self.squares, n)),
            quantiles,
            bins: Bins { edges, counts },
        };
        (stats, sorted)
    }
}

fn quantiles_of(q: impl Fn(u32) -> Option<Num>) -> Vec<QuantileValue> {
    QUANTILES
        .iter()
        .filter_map(|&p| q(p).map(|value| QuantileValue { p, value }))
        .collect()
}

/// How many of the sorted `values` fall in each bin of `edges` (bin `i`: `edges[i-1] <
/// v <= edges[i]`, the first from -inf, the last to +inf): `edges.len() + 1` counts.
pub fn bin_counts(edges: &[f64], sorted: &[f64]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(edges.len() + 1);
    let mut below = 0;
    for &e in edges {
        let upto = sorted.partition_point(|&v| v <= e);
        counts.push((upto - below) as u64);
        below = upto;
    }
    counts.push((sorted.len() - below) as u64);
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_stddev_quantiles_by_hand() {
        // 1, 2, 3, 4: mean 2.5, population variance (2.25 + 0.25 + 0.25 + 2.25) / 4 =
        // 1.25, stddev sqrt(1.25); p50 is the lower middle (rank ceil(2) = 2).
        let mut acc = NumericAcc::new(false);
        acc.add_floats(&Float64Array::from(vec![
            Some(3.0),
            None,
            Some(1.0),
            Some(f64::NAN),
            Some(4.0),
            Some(2.0),
            Some(f64::INFINITY),
        ]));
        let (s, sorted) = acc.finish();
        assert_eq!(sorted, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!((s.finite, s.nan, s.pos_inf, s.neg_inf), (4, 1, 1, 0));
        assert_eq!(s.mean, Some(2.5));
        assert_eq!(s.stddev, Some(1.25f64.sqrt()));
        assert_eq!(s.min, Some(Num::Float(1.0)));
        assert_eq!(s.max, Some(Num::Float(4.0)));
        let p50 = s.quantiles.iter().find(|q| q.p == 50).map(|q| q.value);
        assert_eq!(p50, Some(Num::Float(2.0)));
        // Deciles of 4 values: ranks ceil(0.4)=1, ceil(0.8)=1, 2, 2, 2, 3, 3, 4, 4 →
        // edges 1, 2, 3, 4; bins (-inf,1], (1,2], (2,3], (3,4], (4,inf) with +inf last.
        assert_eq!(s.bins.edges, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.bins.counts, vec![1, 1, 1, 1, 1]);
    }

    #[test]
    fn the_mean_is_exact_where_naive_summation_is_not() {
        // 1e16 + 1 + 1 - 1e16 summed left to right in f64 is 0 (or 2 by luck of
        // order); the exact sum is 2, the mean 0.5.
        let mut acc = NumericAcc::new(false);
        acc.add_floats(&Float64Array::from(vec![1e16, 1.0, 1.0, -1e16]));
        let (s, _) = acc.finish();
        assert_eq!(s.mean, Some(0.5));
    }

    #[test]
    fn ints_stay_ints() {
        let mut acc = NumericAcc::new(true);
        acc.add_ints(&Int64Array::from(vec![Some(i64::MAX), Some(-3), None]));
        let (s, _) = acc.finish();
        assert_eq!(s.min, Some(Num::Int(-3)));
        assert_eq!(s.max, Some(Num::Int(i64::MAX)));
    }
}
