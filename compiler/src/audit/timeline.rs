//! The audited cells over time, by the reads' times: equal, explained by cause and
//! unexplained per bucket, for the report's chart. Buckets start a minute wide and
//! double in width (merging neighbours) whenever there would be more than
//! `MAX_BUCKETS`, so the timeline's size is bounded whatever the log's span.

use std::collections::BTreeMap;

use serde::Serialize;

use super::report::{Cause, Counts};

/// Buckets kept at most.
pub const MAX_BUCKETS: usize = 240;
const MINUTE_US: i64 = 60_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    width_us: i64,
    /// Bucket start (a multiple of `width_us`) to its counts.
    buckets: BTreeMap<i64, Counts>,
}

impl Default for Timeline {
    fn default() -> Timeline {
        Timeline {
            width_us: MINUTE_US,
            buckets: BTreeMap::new(),
        }
    }
}

/// What a cell was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Equal,
    Explained(Cause),
    Unexplained,
}

/// One bucket as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// Its start and end (µs since the epoch, UTC; the end excluded).
    pub start_us: i64,
    pub end_us: i64,
    #[serde(flatten)]
    pub counts: Counts,
}

impl Timeline {
    pub fn count(&mut self, at: i64, verdict: Verdict) {
        let mut start = at.div_euclid(self.width_us) * self.width_us;
        if !self.buckets.contains_key(&start) && self.buckets.len() >= MAX_BUCKETS {
            self.coarsen();
            start = at.div_euclid(self.width_us) * self.width_us;
        }
        let counts = self.buckets.entry(start).or_default();
        match verdict {
            Verdict::Equal => counts.equal += 1,
            Verdict::Explained(cause) => *counts.explained.entry(cause).or_default() += 1,
            Verdict::Unexplained => counts.unexplained += 1,
        }
    }

    /// Doubles the width (until the buckets fit), merging neighbours.
    fn coarsen(&mut self) {
        while self.buckets.len() >= MAX_BUCKETS {
            self.width_us = self.width_us.saturating_mul(2);
            let old = std::mem::take(&mut self.buckets);
            for (start, counts) in old {
                let merged = self
                    .buckets
                    .entry(start.div_euclid(self.width_us) * self.width_us)
                    .or_default();
                merged.equal += counts.equal;
                merged.unexplained += counts.unexplained;
                for (cause, n) in counts.explained {
                    *merged.explained.entry(cause).or_default() += n;
                }
            }
        }
    }

    pub fn buckets(&self) -> Vec<Bucket> {
        self.buckets
            .iter()
            .map(|(&start_us, counts)| Bucket {
                start_us,
                end_us: start_us.saturating_add(self.width_us),
                counts: counts.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_span_coarsens_and_keeps_every_count() {
        let mut t = Timeline::default();
        let day = 24 * 60 * MINUTE_US;
        for i in 0..1000 {
            t.count(i * day / 7, Verdict::Equal);
            if i % 10 == 0 {
                t.count(i * day / 7, Verdict::Explained(Cause::HeldForLookup));
            }
        }
        t.count(3, Verdict::Unexplained);
        let buckets = t.buckets();
        assert!(buckets.len() < MAX_BUCKETS, "{}", buckets.len());
        let equal: u64 = buckets.iter().map(|b| b.counts.equal).sum();
        let explained: u64 = buckets.iter().map(|b| b.counts.explained_total()).sum();
        let unexplained: u64 = buckets.iter().map(|b| b.counts.unexplained).sum();
        assert_eq!((equal, explained, unexplained), (1000, 100, 1));
        assert!(buckets.windows(2).all(|w| w[0].end_us <= w[1].start_us));
        assert_eq!(buckets[0].start_us, 0);
    }
}
