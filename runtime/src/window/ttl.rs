//! The time rules of semantics.md the window state applies: when an event has left a
//! window, and the ttl rule (a feature of a view with ttl D read at t is null when the
//! key has no event of the view's input, after the view filter, in (t - D, t]).

/// True when an event at `ts` is outside a window of `w` read at `t`
/// (`ts <= t - w`), computed without overflow.
#[inline]
pub(crate) fn expired(ts: i64, t: i64, w: i64) -> bool {
    (ts as i128) + (w as i128) <= t as i128
}

/// True when the latest qualifying event at or before `t` (`latest`, with
/// `latest <= t`) keeps a feature with ttl `ttl_us` fresh at `t`, i.e. lies in
/// `(t - ttl_us, t]`. `None` (no such event) is never fresh.
pub fn ttl_fresh(latest: Option<i64>, t: i64, ttl_us: i64) -> bool {
    latest.is_some_and(|l| l <= t && (l as i128) > t as i128 - ttl_us as i128)
}
