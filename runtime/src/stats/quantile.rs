//! Nearest-rank quantiles, as featc's `percentile` (semantics.md, "Percentiles"): the
//! value of rank `max(1, ceil(p * n))` among the `n` sorted values, so always one of
//! the values, computed in integers from `p` in percent.

/// The quantiles `featc stats` reports, in percent.
pub const QUANTILES: [u32; 7] = [1, 5, 25, 50, 75, 95, 99];

/// The deciles (in percent) whose values are the edges of a numeric feature's PSI bins.
pub const DECILES: [u32; 9] = [10, 20, 30, 40, 50, 60, 70, 80, 90];

/// The 0-based index of the nearest-rank `percent` quantile among `n > 0` values.
pub fn rank_index(percent: u32, n: usize) -> usize {
    let rank = (percent as u128 * n as u128).div_ceil(100).max(1);
    (rank as usize - 1).min(n.saturating_sub(1))
}

/// The nearest-rank `percent` quantile of `sorted` (ascending); `None` when empty.
pub fn nearest_rank<T: Copy>(sorted: &[T], percent: u32) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    sorted.get(rank_index(percent, sorted.len())).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_by_hand() {
        // n = 4: p50 has rank ceil(2) = 2 (the lower middle), p1 rank max(1, ceil(0.04)) = 1,
        // p99 rank ceil(3.96) = 4.
        let v = [10, 20, 30, 40];
        assert_eq!(nearest_rank(&v, 50), Some(20));
        assert_eq!(nearest_rank(&v, 1), Some(10));
        assert_eq!(nearest_rank(&v, 99), Some(40));
        assert_eq!(nearest_rank(&v, 75), Some(30));
        assert_eq!(nearest_rank(&v, 76), Some(40));
        assert_eq!(nearest_rank::<i32>(&[], 50), None);
    }
}
