//! The bound on how far ahead of the wall clock an event's time may be
//! (`--max-future`). An event at the end of time would move its source's watermark
//! there: every later event late, every read at a real time before the horizon under
//! `--clock events`. So the push check refuses such rows before anything is logged
//! (HTTP and embedded pushes whole, Kafka records one by one, dead-lettered), and
//! counts them by source. The decision uses the wall clock when the push is checked
//! and is never taken again: replay applies what the log holds.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use featc_runtime::row::duration;

use crate::names::Names;
use crate::wire::time::format_time;

/// Rows of one push whose event time is past the bound.
#[derive(Debug, Clone, PartialEq)]
pub struct FutureEvent {
    pub source: String,
    /// The source's time column.
    pub column: String,
    /// Every row past the bound, with its time (µs), in row order; never empty.
    pub rows: Vec<(usize, i64)>,
    /// The bound, µs ahead of the wall clock.
    pub max_future_us: i64,
}

impl FutureEvent {
    /// The first row past the bound and its time.
    pub fn first(&self) -> (usize, i64) {
        self.rows.first().copied().unwrap_or((0, 0))
    }

    /// Why one row was refused, in the words of a dead-letter's reason.
    pub fn reason(&self, time: i64) -> String {
        format!(
            "event time {} is more than {} ahead of the wall clock (--max-future)",
            format_time(time),
            duration::display(self.max_future_us)
        )
    }
}

impl std::fmt::Display for FutureEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (row, time) = self.first();
        write!(f, "`{}` row {row}: {}", self.column, self.reason(time))?;
        match self.rows.len() {
            1 => Ok(()),
            n => write!(f, " ({n} rows are)"),
        }
    }
}

/// The rows of `times` later than `now` plus `max_future_us`, with their times.
pub fn beyond(times: &[i64], now: i64, max_future_us: i64) -> Vec<(usize, i64)> {
    let limit = now.saturating_add(max_future_us);
    times
        .iter()
        .enumerate()
        .filter(|&(_, &t)| t > limit)
        .map(|(row, &t)| (row, t))
        .collect()
}

/// Rows refused past the bound, by source (over the process's life, for `/metrics`).
#[derive(Debug)]
pub struct FutureCounts {
    sources: Vec<(String, AtomicU64)>,
}

impl FutureCounts {
    pub fn new(names: &Names) -> FutureCounts {
        FutureCounts {
            sources: names
                .sources
                .iter()
                .map(|s| (s.name.clone(), AtomicU64::new(0)))
                .collect(),
        }
    }

    pub(in crate::state) fn add(&self, source: &str, n: usize) {
        if let Some((_, c)) = self.sources.iter().find(|(name, _)| name == source) {
            c.fetch_add(n as u64, Relaxed);
        }
    }

    /// Every source with its count.
    pub fn by_source(&self) -> impl Iterator<Item = (&str, u64)> {
        self.sources
            .iter()
            .map(|(n, c)| (n.as_str(), c.load(Relaxed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_MAX_FUTURE_US;

    #[test]
    fn the_bound_itself_is_in_and_one_microsecond_more_is_out() {
        let now = 1_700_000_000_000_000;
        let bound = DEFAULT_MAX_FUTURE_US;
        let times = [now, now + bound, now + bound + 1, i64::MAX];
        assert_eq!(
            beyond(&times, now, bound),
            vec![(2, now + bound + 1), (3, i64::MAX)]
        );
        // No overflow at the end of time.
        assert_eq!(beyond(&[i64::MAX], i64::MAX, bound), vec![]);
    }
}
