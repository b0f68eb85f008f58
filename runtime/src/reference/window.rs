//! Which events a feature folds at time `t` (semantics.md "Windows"), and the view's
//! ttl staleness test, written as the plain inequalities of the contract.

use super::value::{total_cmp, RValue};

/// True when an event at `ts` is in the window of a feature evaluated at `t`:
/// `t - W < ts <= t`, or `ts <= t` for a lifetime feature (`window_us` is `None`).
/// The arithmetic is in i128 so that times near the ends of i64 cannot overflow.
pub fn in_window(ts: i64, t: i64, window_us: Option<i64>) -> bool {
    if ts > t {
        return false;
    }
    match window_us {
        None => true,
        Some(w) => (t as i128) - (w as i128) < ts as i128,
    }
}

/// `in_window` for a feature `over W [offset O] [exclusive]` (semantics.md, "Window
/// options"): `t - O - W < ts <= t - O`, or `t - O - W <= ts < t - O` with an exclusive
/// end.
pub fn in_window_with(
    ts: i64,
    t: i64,
    window_us: Option<i64>,
    offset_us: i64,
    exclusive_end: bool,
) -> bool {
    let (ts, end) = (ts as i128, t as i128 - offset_us as i128);
    match (window_us, exclusive_end) {
        (None, false) => ts <= end,
        (None, true) => ts < end,
        (Some(w), false) => end - (w as i128) < ts && ts <= end,
        (Some(w), true) => end - (w as i128) <= ts && ts < end,
    }
}

/// The events a count window folds (semantics.md, "Count windows"): of the events of
/// its duration window (all of them at or before the read, without one), the `n`
/// latest in the order of time, then value (null first, then `total_cmp`).
pub fn latest_events(mut window: Vec<(i64, &RValue)>, n: u32) -> Vec<(i64, &RValue)> {
    window.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| total_cmp(a.1, b.1)));
    let cut = window.len().saturating_sub(n as usize);
    window.split_off(cut)
}

/// True when a view with `ttl D` is fresh at `t`: some event time is in `(t - D, t]`.
pub fn fresh(times: impl IntoIterator<Item = i64>, t: i64, ttl_us: i64) -> bool {
    times.into_iter().any(|ts| in_window(ts, t, Some(ttl_us)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_open_right_closed() {
        assert!(!in_window(0, 10, Some(10)));
        assert!(in_window(1, 10, Some(10)));
        assert!(in_window(10, 10, Some(10)));
        assert!(!in_window(11, 10, Some(10)));
        assert!(in_window(i64::MIN, 0, None));
        assert!(in_window(i64::MAX, i64::MAX, Some(i64::MAX)));
        assert!(!in_window(i64::MIN, i64::MAX, Some(i64::MAX)));
        // `over 10 offset 5`: (t - 15, t - 5]; exclusive: [t - 15, t - 5).
        assert!(!in_window_with(5, 20, Some(10), 5, false));
        assert!(in_window_with(6, 20, Some(10), 5, false));
        assert!(in_window_with(15, 20, Some(10), 5, false));
        assert!(!in_window_with(16, 20, Some(10), 5, false));
        assert!(in_window_with(5, 20, Some(10), 5, true));
        assert!(!in_window_with(15, 20, Some(10), 5, true));
        assert!(in_window_with(14, 20, Some(10), 0, true));
        assert!(!in_window_with(20, 20, Some(10), 0, true));
        // A count window's end: `over 3 events exclusive` reads before t.
        assert!(!in_window_with(20, 20, None, 0, true));
        assert!(in_window_with(19, 20, None, 0, true));
    }
}
