//! What an online store that mirrors the runtime needs to stay current without
//! re-reading every entity: the keys an entity has, and when an entity's values next
//! change with no new event (a window edge, a ttl running out, a future event coming
//! into range).

use super::runtime::StreamRuntime;
use crate::value::Value;

impl StreamRuntime {
    /// Every key of `entity` that some event gave (across the groups that key on it),
    /// each once, in a deterministic order: group order, then first-insertion order.
    pub fn entity_keys(&self, entity: &str) -> Vec<Vec<Value>> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for group in self.groups.iter().filter(|g| g.plan.entity == entity) {
            for key in group.keys.keys() {
                let canonical: Vec<_> = key
                    .iter()
                    .map(|v| crate::value::ValueKey(v.canonical()))
                    .collect();
                if seen.insert(canonical) {
                    out.push(key);
                }
            }
        }
        out
    }

    /// The earliest time after `t` at which a read of `entity`'s features for `key`
    /// may differ from the read at `t` when no event is ingested meanwhile; `None`
    /// when none will (only lifetime features, or nothing in any window). Never later
    /// than the first change (see `KeyState::next_change_after`): re-reading at the
    /// times it gives keeps a copy of the values exact.
    pub fn next_change(&self, entity: &str, key: &[Value], t: i64) -> Option<i64> {
        self.groups
            .iter()
            .filter(|g| g.plan.entity == entity)
            .filter_map(|g| {
                let id = g.keys.get(key)?;
                g.next_change(id, t)
            })
            .min()
    }
}
