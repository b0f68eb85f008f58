//! Services across two projects: added, removed, and for a service in both the
//! features it gained, lost, or serves with another meaning; and the CI gate those
//! decide.

use std::collections::BTreeSet;

use featc_runtime::ir::{Project, Service};

use super::report::{Gate, ServiceChange, ServiceChanges};

/// The names of the features a service serves, in its order.
pub fn served(p: &Project, s: &Service) -> Vec<String> {
    s.features
        .iter()
        .filter_map(|id| p.get_feature(*id).map(|f| f.name.clone()))
        .collect()
}

/// The services that serve `feature` in either project, sorted.
pub fn served_by(old: &Project, new: &Project, feature: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    for p in [old, new] {
        for s in &p.services {
            if served(p, s).iter().any(|f| f == feature) {
                out.insert(s.name.clone());
            }
        }
    }
    out.into_iter().collect()
}

/// How the services differ; `changed` says whether a feature (of both projects)
/// changed meaning.
pub fn services(old: &Project, new: &Project, changed: &dyn Fn(&str) -> bool) -> ServiceChanges {
    let mut out = ServiceChanges::default();
    for s in &new.services {
        let Some(o) = old.services.iter().find(|o| o.name == s.name) else {
            out.added.push(s.name.clone());
            continue;
        };
        let (before, now) = (served(old, o), served(new, s));
        let gained: Vec<String> = now
            .iter()
            .filter(|f| !before.contains(f))
            .cloned()
            .collect();
        let lost: Vec<String> = before
            .iter()
            .filter(|f| !now.contains(f))
            .cloned()
            .collect();
        let kept_changed: Vec<String> = now
            .iter()
            .filter(|f| before.contains(f) && changed(f))
            .cloned()
            .collect();
        let common = |list: &[String], other: &[String]| -> Vec<String> {
            list.iter().filter(|f| other.contains(f)).cloned().collect()
        };
        let reordered = common(&before, &now) != common(&now, &before);
        if gained.is_empty() && lost.is_empty() && kept_changed.is_empty() && !reordered {
            continue;
        }
        out.changed.push(ServiceChange {
            name: s.name.clone(),
            gained,
            lost,
            changed: kept_changed,
            reordered,
        });
    }
    out.removed = old
        .services
        .iter()
        .filter(|o| !new.services.iter().any(|s| s.name == o.name))
        .map(|o| o.name.clone())
        .collect();
    out
}

/// The CI gate: a removed service, or a remaining service that lost a feature or
/// serves one whose meaning changed, fails it. Added services and features, and a new
/// order, do not.
pub fn gate(services: &ServiceChanges) -> Gate {
    let mut reasons = Vec::new();
    for name in &services.removed {
        reasons.push(format!("service {name} was removed"));
    }
    for s in &services.changed {
        for f in &s.changed {
            reasons.push(format!(
                "service {} serves {f}, whose meaning changed",
                s.name
            ));
        }
        for f in &s.lost {
            reasons.push(format!("service {} no longer serves {f}", s.name));
        }
    }
    Gate {
        fails: !reasons.is_empty(),
        reasons,
    }
}
