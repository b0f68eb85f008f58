//! Which events of each source a training set can read: a plan evaluated at spine
//! times from `first` to `last` reads no event after `last` (no leakage), and, for a
//! group with a retention (`window::expiry::retention_us`), none at or before `first`
//! minus its delay and retention; a lookup reads its view at its events' times, so
//! its sources' ranges start that much earlier again. A time partition entirely
//! outside these ranges can be skipped (`io::partition`).

use std::collections::HashMap;

use crate::plan::Plan;
use crate::window::expiry::retention_us;

/// The events of a source a run can read: those with `from <= ts <= through` (every
/// one up to `through` when `from` is `None`: a lifetime feature reads all history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRange {
    pub from: Option<i64>,
    pub through: i64,
}

impl EventRange {
    /// Whether events at `[start, end)` (µs) may be read.
    pub fn overlaps(self, start: i64, end: i64) -> bool {
        start <= self.through && self.from.is_none_or(|from| end > from)
    }

    /// The range reading both `self` and `other`.
    fn union(self, other: EventRange) -> EventRange {
        EventRange {
            from: self.from.zip(other.from).map(|(a, b)| a.min(b)),
            through: self.through.max(other.through),
        }
    }
}

/// Per source `plan` reads, the events it can read when evaluated at times from
/// `first` to `last` (µs, `first <= last`).
pub fn events_needed(plan: &Plan, first: i64, last: i64) -> HashMap<String, EventRange> {
    let mut out = HashMap::new();
    visit(plan, Some(first), last, &mut out);
    out
}

/// Adds the ranges of `plan`'s sources when it is read at times from `first` (`None`:
/// any time) to `last`.
fn visit(plan: &Plan, first: Option<i64>, last: i64, out: &mut HashMap<String, EventRange>) {
    for group in &plan.groups {
        // An event at `ts` counts at `t` only while `ts > state_time(t) - retention`.
        let from = first
            .zip(retention_us(&group.features))
            .map(|(t, retention)| group.state_time(t).saturating_sub(retention));
        let range = EventRange {
            from,
            through: last,
        };
        for (source, _) in group.sources() {
            out.entry(source.to_string())
                .and_modify(|r: &mut EventRange| *r = r.union(range))
                .or_insert(range);
        }
        // Each of the group's events reads its lookups at its own time.
        for lookup in &group.lookups {
            visit(&lookup.plan, from, last, out);
        }
    }
}
