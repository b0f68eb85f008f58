//! The diff report as text for people: features per view, services, online state,
//! the informational notes, then the gate's verdict. Empty sections are left out.

use std::fmt::Write;

use super::report::{Item, Note, OwnerChanges, ProjectDiff, ServiceChanges, StateDirectory};

/// The report; `old` and `new` name the two sides on its first line.
pub fn render(d: &ProjectDiff, old: &str, new: &str) -> String {
    let mut out = format!("featc diff {old} -> {new}\n");
    if d.no_meaning_change() {
        out.push_str("\nno feature or service changed meaning\n");
    }
    features(&mut out, &d.features);
    services(&mut out, &d.services);
    online(&mut out, d);
    notes(
        &mut out,
        "sources (informational; where one changes a feature's meaning, it is among that feature's reasons above)",
        &d.sources,
    );
    notes(
        &mut out,
        "metadata (informational: not changes in meaning)",
        &d.metadata,
    );
    out.push('\n');
    if d.gate.fails {
        out.push_str("gate: FAILS (exit status 1)\n");
        for r in &d.gate.reasons {
            let _ = writeln!(out, "  - {r}");
        }
    } else {
        out.push_str("gate: passes (no served feature changed meaning or was removed)\n");
    }
    out
}

fn features(out: &mut String, owners: &[OwnerChanges]) {
    if owners.is_empty() {
        return;
    }
    out.push_str("\nfeatures\n");
    for o in owners {
        let _ = writeln!(out, "  {}", o.owner);
        for c in &o.changed {
            let served = if c.served_by.is_empty() {
                String::new()
            } else {
                format!(" (served by {})", c.served_by.join(", "))
            };
            let _ = writeln!(out, "    changed  {}{served}", c.name);
            for r in &c.reasons {
                let _ = writeln!(out, "               - {r}");
            }
        }
        for r in &o.renamed {
            let _ = writeln!(out, "    renamed  {} -> {} (same meaning)", r.from, r.to);
        }
        for name in o.added.iter().filter(|n| !renamed(owners, n, false)) {
            let _ = writeln!(out, "    added    {name}");
        }
        for name in o.removed.iter().filter(|n| !renamed(owners, n, true)) {
            let _ = writeln!(out, "    removed  {name}");
        }
    }
}

/// Whether `name` is a rename's old name (`from`) or new name, said as a rename.
fn renamed(owners: &[OwnerChanges], name: &str, from: bool) -> bool {
    owners
        .iter()
        .flat_map(|o| &o.renamed)
        .any(|r| name == if from { &r.from } else { &r.to })
}

fn services(out: &mut String, s: &ServiceChanges) {
    if s.added.is_empty() && s.removed.is_empty() && s.changed.is_empty() {
        return;
    }
    out.push_str("\nservices\n");
    for name in &s.added {
        let _ = writeln!(out, "  added    {name}");
    }
    for name in &s.removed {
        let _ = writeln!(out, "  removed  {name}");
    }
    for c in &s.changed {
        let _ = writeln!(out, "  changed  {}", c.name);
        for (what, names) in [
            ("serves, changed in meaning:", &c.changed),
            ("no longer serves:", &c.lost),
            ("now also serves:", &c.gained),
        ] {
            if !names.is_empty() {
                let _ = writeln!(out, "             - {what} {}", names.join(", "));
            }
        }
        if c.reordered {
            out.push_str("             - serves its features in another order\n");
        }
    }
}

fn online(out: &mut String, d: &ProjectDiff) {
    let o = &d.online;
    if o.owners.is_empty() && o.state_directory.is_none() {
        return;
    }
    out.push_str("\nonline state\n");
    let items = |items: &[Item]| {
        let items: Vec<String> = items
            .iter()
            .map(|i| format!("{} {}", i.feature, i.change.word()))
            .collect();
        items.join(", ")
    };
    for s in &o.owners {
        if s.rebuild {
            let _ = writeln!(
                out,
                "  {}: REBUILD by replaying the source's history, for {}",
                s.owner,
                items(&s.rebuild_for)
            );
            if !s.no_rebuild.is_empty() {
                let _ = writeln!(out, "    (no state needed for {})", items(&s.no_rebuild));
            }
        } else {
            let _ = writeln!(out, "  {}: no rebuild ({})", s.owner, items(&s.no_rebuild));
        }
    }
    if let Some(dir) = &o.state_directory {
        let verdict = match dir {
            StateDirectory::Reused => {
                "reused as is (same identity; a checkpoint loads)".to_string()
            }
            StateDirectory::Refused {
                changed,
                added,
                removed,
            } => {
                let mut parts = Vec::new();
                for (what, names) in [("changed", changed), ("added", added), ("removed", removed)]
                {
                    if !names.is_empty() {
                        parts.push(format!("{what}: {}", names.join(", ")));
                    }
                }
                format!(
                    "refused: built for other features ({}); start on a new --state with --bootstrap",
                    parts.join("; ")
                )
            }
            StateDirectory::CheckpointRefused { message } => {
                format!("refused: the identity matches but a checkpoint does not load ({message})")
            }
            StateDirectory::Unknown { message } => format!("unknown ({message})"),
            StateDirectory::NotChecked { message } => format!("not checked; {message}"),
        };
        let _ = writeln!(
            out,
            "  an existing featc serve --state directory: {verdict}"
        );
    }
}

fn notes(out: &mut String, title: &str, notes: &[Note]) {
    if notes.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}");
    for n in notes {
        let _ = writeln!(out, "  {}: {}", n.subject, n.change);
    }
}
