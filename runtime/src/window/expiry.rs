//! Retention and expiry (semantics.md, "Online values"): how long a group's features
//! still depend on an event, and from which state time an entity's state reads
//! exactly as an entity never seen, so that the online state can forget it.

use super::key_state::KeyState;
use crate::plan::FeaturePlan;

/// The retention of a group whose features are `features` (state time: windows and
/// ttls as the spec holds them, each shortened by the source's delay, which shifts
/// every one by the same amount): for each feature its window plus its shift, or its
/// ttl if longer. A lifetime feature depends on every event forever, ttl or not (the
/// ttl hides its value while stale, but the next event's value counts every earlier
/// one): `None`, the group has no retention.
pub(crate) fn retention_us(features: &[FeaturePlan]) -> Option<i64> {
    let mut longest = 0i64;
    for f in features {
        let window = f.window_us?.saturating_add(f.shift_us);
        longest = longest.max(match f.ttl {
            Some(t) => window.max(t.ttl_us),
            None => window,
        });
    }
    Some(longest)
}

impl KeyState {
    /// The state time from which every read of this state equals a read of a state
    /// that never saw an event (its latest event plus the group's retention): values,
    /// and the entity counts as unknown. `i64::MIN` for a state without an event;
    /// `None`: never (the group has no retention).
    pub fn expires_at(&self) -> Option<i64> {
        let retention = self.spec.retention_us?;
        Some(match self.latest_at_or_before(i64::MAX) {
            Some(latest) => latest.saturating_add(retention),
            None => i64::MIN,
        })
    }

    /// Whether the expiry sweep, whose every later read is at state time `t` or after,
    /// may forget this state: its latest event of all is past its retention at `t`.
    pub fn expired_at(&self, t: i64) -> bool {
        self.expires_at().is_some_and(|e| e <= t)
    }

    /// Whether a read at state time `t` sees this entity at all: it has an event at or
    /// before `t`, and the latest such event is not past the group's retention at `t`.
    /// Only events at or before `t` count (no leakage): an entity whose later event
    /// keeps `expires_at` ahead still reads as never seen at a `t` its earlier events
    /// have expired by, as the reference and a training set see it.
    pub fn seen_at(&self, t: i64) -> bool {
        match (self.latest_at_or_before(t), self.spec.retention_us) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(latest), Some(retention)) => latest.saturating_add(retention) > t,
        }
    }
}
