//! The two-sample Kolmogorov–Smirnov statistic: `D = sup_x |F_b(x) - F_c(x)|` over the
//! empirical CDFs of two samples, exact: the CDFs only change at sample values, so
//! `D` is the largest `|i/n - j/m|` after each distinct value, computed as the integer
//! `|i·m - j·n|` and divided by `n·m` once.

/// `D` of two ascending samples; `None` when either is empty.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> Option<f64> {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return None;
    }
    let (mut i, mut j) = (0usize, 0usize);
    let mut best: u128 = 0;
    while i < n && j < m {
        let x = if a[i] <= b[j] { a[i] } else { b[j] };
        // Step past every copy of x in both samples: the CDFs are compared after a
        // value, never between two copies of it.
        while i < n && a[i] <= x {
            i += 1;
        }
        while j < m && b[j] <= x {
            j += 1;
        }
        let d = (i as u128 * m as u128).abs_diff(j as u128 * n as u128);
        best = best.max(d);
    }
    // Past the end of one sample the gap only shrinks towards 0 at the other's end.
    Some(best as f64 / (n as u128 * m as u128) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_by_hand() {
        // a = {1, 2, 3}, b = {2, 4}. After 1: F_a = 1/3, F_b = 0 → 1/3. After 2: 2/3
        // vs 1/2 → 1/6. After 3: 1 vs 1/2 → 1/2. After 4: 1 vs 1 → 0. D = 1/2.
        assert_eq!(ks_statistic(&[1.0, 2.0, 3.0], &[2.0, 4.0]), Some(0.5));
        // Ties: a = {1, 1, 2}, b = {1, 1}. After 1 (both copies): 2/3 vs 1 → 1/3.
        assert_eq!(ks_statistic(&[1.0, 1.0, 2.0], &[1.0, 1.0]), Some(1.0 / 3.0));
        // Identical samples: 0; disjoint: 1.
        assert_eq!(ks_statistic(&[1.0, 2.0], &[1.0, 2.0]), Some(0.0));
        assert_eq!(ks_statistic(&[1.0, 2.0], &[3.0, 4.0]), Some(1.0));
        assert_eq!(ks_statistic(&[], &[1.0]), None);
    }
}
