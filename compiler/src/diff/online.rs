//! What a change means for online state: the streaming runtime keeps window state for
//! aggregations only (per group of a view's sources and entity key), so a view whose
//! aggregation was added or changed needs that state rebuilt by replaying its sources'
//! history; a derived feature is computed at read time from the aggregations' values,
//! and a removal leaves nothing to compute, so neither needs a rebuild. An aggregation
//! over an as-of lookup whose looked-up feature changed is itself changed (its events
//! folded other values), so its view is rebuilt too.

use std::collections::BTreeMap;

use super::meaning::{Body, Definition};
use super::report::{Change, Item, OnlineState, OwnerChanges, OwnerState};

/// Per owner with a change, whether its state must be rebuilt and for what.
pub fn online(features: &[OwnerChanges], new: &BTreeMap<String, Definition>) -> OnlineState {
    let is_aggregate = |name: &str| {
        new.get(name)
            .is_some_and(|d| matches!(d.meaning.body, Body::Aggregate(_)))
    };
    let owners = features
        .iter()
        .map(|o| {
            let mut state = OwnerState {
                owner: o.owner.clone(),
                rebuild: false,
                rebuild_for: Vec::new(),
                no_rebuild: Vec::new(),
            };
            let changed = o.changed.iter().map(|c| (&c.name, Change::Changed));
            for (name, change) in o.added.iter().map(|n| (n, Change::Added)).chain(changed) {
                let item = Item {
                    feature: name.clone(),
                    change,
                };
                if is_aggregate(name) {
                    state.rebuild_for.push(item);
                } else {
                    state.no_rebuild.push(item);
                }
            }
            state.no_rebuild.extend(o.removed.iter().map(|n| Item {
                feature: n.clone(),
                change: Change::Removed,
            }));
            state.rebuild = !state.rebuild_for.is_empty();
            state
        })
        .collect();
    OnlineState {
        owners,
        state_directory: None,
    }
}
