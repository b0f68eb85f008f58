//! The population stability index of two binned distributions (docs/stats.md):
//! `PSI = Σ_i (c_i - b_i) · ln(c_i / b_i)` over the bins, where `b_i` and `c_i` are
//! the baseline's and the current table's shares of rows in bin `i`, each raised to
//! `PSI_EPSILON` when smaller (an empty bin would make the logarithm infinite).

/// The floor of a bin's share.
pub const PSI_EPSILON: f64 = 1e-4;

/// The PSI of bin counts `baseline` (out of `baseline_rows`) and `current` (out of
/// `current_rows`), bin by bin; `None` when either table has no rows.
pub fn psi(
    baseline: &[u64],
    baseline_rows: u64,
    current: &[u64],
    current_rows: u64,
) -> Option<f64> {
    if baseline_rows == 0 || current_rows == 0 {
        return None;
    }
    let share = |c: u64, n: u64| (c as f64 / n as f64).max(PSI_EPSILON);
    let total = baseline
        .iter()
        .zip(current)
        .map(|(&b, &c)| {
            let (b, c) = (share(b, baseline_rows), share(c, current_rows));
            (c - b) * (c / b).ln()
        })
        .sum();
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_by_hand() {
        // Baseline 50/50 over two bins, current 25/75:
        // (0.25 - 0.5)·ln(0.25/0.5) + (0.75 - 0.5)·ln(0.75/0.5)
        //   = 0.25·ln 2 + 0.25·ln 1.5 = 0.25·ln 3 ≈ 0.274653.
        let p = psi(&[2, 2], 4, &[1, 3], 4).unwrap_or(f64::NAN);
        assert!((p - 0.25 * 3f64.ln()).abs() < 1e-15, "{p}");
        // The same distribution: 0.
        assert_eq!(psi(&[1, 3], 4, &[2, 6], 8), Some(0.0));
        // An empty current bin is floored at 1e-4: (1e-4 - 0.5)·ln(1e-4/0.5) + (1 - 0.5)·ln(2).
        let p = psi(&[1, 1], 2, &[0, 4], 4).unwrap_or(f64::NAN);
        let by_hand = (1e-4 - 0.5) * (1e-4f64 / 0.5).ln() + 0.5 * 2f64.ln();
        assert!((p - by_hand).abs() < 1e-12, "{p} vs {by_hand}");
        assert_eq!(psi(&[1], 0, &[1], 1), None);
    }
}
