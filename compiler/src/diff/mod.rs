//! `featc diff`: how two versions of a project differ in meaning (docs/diff.md).
//!
//! Every feature of each project gets a canonical meaning (`meaning`: its definition
//! with lets, its view, entity and source resolved; names, never indexes or spans);
//! features are matched by name and compared with `==`, a derived feature also
//! through the features it reads and an aggregation through those it looks up. The
//! report (`report::ProjectDiff`) says, per view and service, what was added,
//! removed or changed and why (`reasons`), what that does to services (`services`,
//! with the CI gate) and to online state (`online`; whether a state directory is
//! reused is the server's to say: the CLI asks it, `featc_cli::state_dir`), and what
//! changed without changing a value (`notes`). `text` and `json` print it.

pub mod canon;
pub mod fingerprint;
pub mod json;
pub mod meaning;
pub mod notes;
pub mod online;
pub mod reasons;
pub mod report;
pub mod services;
pub mod text;

use std::collections::{BTreeMap, HashMap};

use featc_runtime::ir::Project;

pub use crate::lower::groups::GroupingError;
pub use report::ProjectDiff;

use meaning::{Body, Definition, Owner, OwnerKind};
use report::{FeatureChange, OwnerChanges, Renamed};

/// How `new` differs from `old`. Fails only on a project `check` did not produce (a
/// let or derived feature that names nothing).
pub fn diff(old: &Project, new: &Project) -> Result<ProjectDiff, GroupingError> {
    let (old_order, old_defs) = meaning::definitions(old)?;
    let (new_order, new_defs) = meaning::definitions(new)?;
    let mut memo = HashMap::new();
    for name in &new_order {
        changed(name, &old_defs, &new_defs, &mut memo);
    }
    let is_changed = |name: &str| memo.get(name).copied().unwrap_or(false);

    let mut by_owner: BTreeMap<Owner, OwnerChanges> = BTreeMap::new();
    for name in &new_order {
        let Some(n) = new_defs.get(name) else {
            continue;
        };
        match old_defs.get(name) {
            None => entry(&mut by_owner, &n.context.owner)
                .added
                .push(name.clone()),
            Some(o) if is_changed(name) => {
                let change = FeatureChange {
                    name: name.clone(),
                    reasons: reasons::reasons(o, n, &is_changed),
                    served_by: services::served_by(old, new, name),
                };
                entry(&mut by_owner, &n.context.owner).changed.push(change);
            }
            Some(_) => {}
        }
    }
    for name in &old_order {
        if let (Some(o), None) = (old_defs.get(name), new_defs.get(name)) {
            entry(&mut by_owner, &o.context.owner)
                .removed
                .push(name.clone());
        }
    }
    for r in renames(&old_order, &new_order, &old_defs, &new_defs) {
        let owner = new_defs.get(&r.to).and_then(|d| d.context.owner.clone());
        entry(&mut by_owner, &owner).renamed.push(r);
    }
    let mut features: Vec<OwnerChanges> = Vec::new();
    for owner in owner_order(old, new) {
        features.extend(by_owner.remove(&owner));
    }
    // Every owner is in `owner_order`; anything left is kept rather than lost.
    features.extend(by_owner.into_values());

    let services = services::services(old, new, &is_changed);
    let gate = services::gate(&services);
    Ok(ProjectDiff {
        online: online::online(&features, &new_defs),
        sources: notes::sources(old, new),
        metadata: notes::metadata(old, new, &old_defs, &new_defs, &new_order),
        features,
        services,
        gate,
    })
}

/// The changes of `owner` (a feature always has one; an empty name stands in).
fn entry<'m>(
    by_owner: &'m mut BTreeMap<Owner, OwnerChanges>,
    owner: &Option<Owner>,
) -> &'m mut OwnerChanges {
    let owner = owner.clone().unwrap_or(Owner {
        kind: OwnerKind::View,
        name: String::new(),
    });
    by_owner
        .entry(owner.clone())
        .or_insert_with(|| OwnerChanges {
            owner,
            added: Vec::new(),
            removed: Vec::new(),
            changed: Vec::new(),
            renamed: Vec::new(),
        })
}

/// Each added feature (in the new project's order) paired with the first removed
/// one (in the old project's order) of the same meaning, each used once.
fn renames(
    old_order: &[String],
    new_order: &[String],
    old: &BTreeMap<String, Definition>,
    new: &BTreeMap<String, Definition>,
) -> Vec<Renamed> {
    let mut removed: Vec<&String> = old_order.iter().filter(|n| !new.contains_key(*n)).collect();
    let mut out = Vec::new();
    for to in new_order.iter().filter(|n| !old.contains_key(*n)) {
        let Some(meaning) = new.get(to).map(|d| &d.meaning) else {
            continue;
        };
        if let Some(i) = removed
            .iter()
            .position(|from| old.get(*from).is_some_and(|d| &d.meaning == meaning))
        {
            out.push(Renamed {
                from: removed.remove(i).clone(),
                to: to.clone(),
            });
        }
    }
    out
}

/// Whether feature `name` (of both projects) changed meaning: its own meaning, or that
/// of a feature it reads (a derived feature) or looks up (an aggregation),
/// transitively. Memoized; a feature of one project only is not "changed" (it is
/// added or removed).
#[recursive::recursive]
fn changed(
    name: &str,
    old: &BTreeMap<String, Definition>,
    new: &BTreeMap<String, Definition>,
    memo: &mut HashMap<String, bool>,
) -> bool {
    if let Some(&c) = memo.get(name) {
        return c;
    }
    let (Some(o), Some(n)) = (old.get(name), new.get(name)) else {
        return false;
    };
    // A checked project's derived features form no cycle; this guards a hand-made one.
    memo.insert(name.to_string(), false);
    let mut c = o.meaning != n.meaning;
    if !c {
        c = match &n.meaning.body {
            Body::Derived(d) => d.reads.iter().any(|r| changed(r, old, new, memo)),
            Body::Aggregate(a) => a
                .lookups
                .iter()
                .any(|l| changed(&l.feature, old, new, memo)),
        };
    }
    memo.insert(name.to_string(), c);
    c
}

/// The owners of both projects: the new one's views then services, in declaration
/// order, then those only the old one has.
fn owner_order(old: &Project, new: &Project) -> Vec<Owner> {
    let of = |p: &Project| -> Vec<Owner> {
        let views = p.views.iter().map(|v| Owner {
            kind: OwnerKind::View,
            name: v.name.clone(),
        });
        let services = p.services.iter().map(|s| Owner {
            kind: OwnerKind::Service,
            name: s.name.clone(),
        });
        views.chain(services).collect()
    };
    let mut out = of(new);
    for o in of(old) {
        if !out.contains(&o) {
            out.push(o);
        }
    }
    out
}
