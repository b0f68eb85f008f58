//! The slide (hop) an Arroyo hopping window is emitted with: Arroyo has tumbling,
//! hopping and session windows, not featc's per-event sliding `(t - W, t]`, so a
//! window of width `W` becomes `hop(slide, W)`, re-emitted every `slide`.
//!
//! Invariant: the slide divides the width (Arroyo's hop needs whole slides per
//! window) and is at most the staleness asked for, the largest such; a width that
//! is not a whole number of seconds is hopped by its own largest divisor at most
//! the staleness, down to 1 µs.

/// The slide of a window `width_us` wide, for served values at most `staleness_us`
/// older than featc's (besides the watermark's lateness): the largest divisor of
/// `width_us` that is `<= staleness_us` (at least 1 µs). Both must be positive.
pub fn slide_for(width_us: i64, staleness_us: i64) -> i64 {
    debug_assert!(width_us > 0 && staleness_us > 0);
    if staleness_us >= width_us {
        return width_us;
    }
    // Largest divisor <= staleness: walk the divisor pairs up to sqrt(width).
    let mut best = 1;
    let mut d = 1;
    while d * d <= width_us {
        if width_us % d == 0 {
            let (small, large) = (d, width_us / d);
            if large <= staleness_us {
                best = best.max(large);
            }
            if small <= staleness_us {
                best = best.max(small);
            }
        }
        d += 1;
    }
    best
}

/// The default staleness: one minute.
pub const DEFAULT_STALENESS_US: i64 = 60_000_000;

/// A fixed slide (`--slide`) must divide every window it hops: the first window
/// width (µs) among `widths` it does not divide, if any.
pub fn check_fixed(slide_us: i64, widths: impl IntoIterator<Item = i64>) -> Option<i64> {
    widths
        .into_iter()
        .find(|w| slide_us <= 0 || w % slide_us != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    #[test]
    fn a_slide_is_the_largest_divisor_within_the_staleness() {
        assert_eq!(slide_for(3600 * S, 60 * S), 60 * S);
        assert_eq!(slide_for(7 * 86_400 * S, 60 * S), 60 * S);
        assert_eq!(slide_for(90 * S, 60 * S), 45 * S);
        assert_eq!(slide_for(S, 60 * S), S);
        assert_eq!(slide_for(7, 3), 1);
        assert_eq!(check_fixed(60 * S, [3600 * S, 86_400 * S]), None);
        assert_eq!(check_fixed(7 * S, [3600 * S, 70 * S]), Some(3600 * S));
        for (w, s) in [(3600 * S, 7 * S), (86_400 * S, 13 * S), (12_345, 100)] {
            let slide = slide_for(w, s);
            assert_eq!(w % slide, 0);
            assert!(slide <= s);
            assert!(((slide + 1)..=s).all(|d| w % d != 0));
        }
    }
}
