//! The staleness of served values, over the audited reads: for each read, how far
//! its answer lagged the events that existed at its read time (`Arrivals`), kept in
//! a histogram of 2 %-wide buckets so that any number of reads takes bounded memory
//! and each percentile is within 2 % of the exact one.

use std::collections::BTreeMap;

use serde::Serialize;

/// Bucket `i` holds lags in (GROWTH^(i-1), GROWTH^i] µs.
const GROWTH: f64 = 1.02;

/// The lags counted so far.
#[derive(Debug, Clone, Default)]
pub struct Lags {
    reads: u64,
    buckets: BTreeMap<u32, u64>,
    max: i64,
}

/// What the report says of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Staleness {
    /// Reads whose staleness is known (a durable server's log, with its archive).
    pub reads: u64,
    /// Of them, reads that missed an event existing at their read time.
    pub stale_reads: u64,
    /// Percentiles of the lag over all those reads, in microseconds (within 2 %).
    pub p50_us: i64,
    pub p99_us: i64,
    pub max_us: i64,
}

fn bucket(lag: i64) -> u32 {
    ((lag as f64).ln() / GROWTH.ln()).ceil().max(0.0) as u32
}

impl Lags {
    /// Counts a read that lagged `lag` µs (0: none).
    pub fn add(&mut self, lag: i64) {
        self.reads += 1;
        if lag > 0 {
            *self.buckets.entry(bucket(lag)).or_default() += 1;
            self.max = self.max.max(lag);
        }
    }

    /// The lag at or below which `q` of the reads are (the bucket's upper bound,
    /// capped at the largest lag).
    fn quantile(&self, q: f64) -> i64 {
        let rank = ((self.reads as f64) * q).ceil().max(1.0) as u64;
        let stale: u64 = self.buckets.values().sum();
        let fresh = self.reads - stale;
        if rank <= fresh {
            return 0;
        }
        let mut seen = fresh;
        for (&i, &n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return (GROWTH.powi(i as i32).round() as i64).min(self.max);
            }
        }
        self.max
    }

    pub fn summary(&self) -> Option<Staleness> {
        (self.reads > 0).then(|| Staleness {
            reads: self.reads,
            stale_reads: self.buckets.values().sum(),
            p50_us: self.quantile(0.5),
            p99_us: self.quantile(0.99),
            max_us: self.max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_two_percent_and_fresh_reads_count_as_zero() {
        let mut lags = Lags::default();
        assert_eq!(lags.summary(), None);
        for _ in 0..98 {
            lags.add(0);
        }
        lags.add(1_000_000);
        lags.add(5_000_000);
        let s = lags.summary().unwrap();
        assert_eq!(
            (s.reads, s.stale_reads, s.p50_us, s.max_us),
            (100, 2, 0, 5_000_000)
        );
        assert!((s.p99_us - 1_000_000).abs() <= 20_000, "{s:?}");
        let mut all = Lags::default();
        for lag in 1..=1000 {
            all.add(lag * 1000);
        }
        let s = all.summary().unwrap();
        assert!((s.p50_us - 500_000).abs() <= 10_000, "{s:?}");
        assert!((s.p99_us - 990_000).abs() <= 20_000, "{s:?}");
    }
}
