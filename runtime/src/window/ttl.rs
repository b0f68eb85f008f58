//! The ttl rule of semantics.md: a feature of a view with ttl D read at t is null
//! when the key has no event of the view's input (after the view filter) in (t - D, t].

/// True when the latest qualifying event at or before `t` (`latest`, with
/// `latest <= t`) keeps a feature with ttl `ttl_us` fresh at `t`, i.e. lies in
/// `(t - ttl_us, t]`. `None` (no such event) is never fresh.
pub fn ttl_fresh(latest: Option<i64>, t: i64, ttl_us: i64) -> bool {
    latest.is_some_and(|l| l <= t && (l as i128) > t as i128 - ttl_us as i128)
}
