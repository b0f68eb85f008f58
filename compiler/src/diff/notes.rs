//! The informational part of a diff: changes to sources that change no value by
//! themselves (locations, topics, freshness contracts, columns; those a feature reads
//! are also among its reasons), and metadata (doc comments, owners, tags, a feature
//! moved to another view). None of them is a change in meaning.

use std::collections::BTreeMap;

use featc_runtime::ir::{Meta, Project, Source};

use super::meaning::Definition;
use super::reasons::duration;
use super::report::Note;
use crate::print::ir::ty;

/// Notes on the sources (and the views' freshness contracts) of both projects.
pub fn sources(old: &Project, new: &Project) -> Vec<Note> {
    let mut out = Vec::new();
    let mut note = |subject: String, change: String| out.push(Note { subject, change });
    for s in &new.sources {
        let subject = format!("source {}", s.name);
        match old.sources.iter().find(|o| o.name == s.name) {
            None => note(subject, "added".to_string()),
            Some(o) => source(o, s)
                .into_iter()
                .for_each(|change| note(subject.clone(), change)),
        }
    }
    for o in &old.sources {
        if !new.sources.iter().any(|s| s.name == o.name) {
            note(format!("source {}", o.name), "removed".to_string());
        }
    }
    for v in &new.views {
        let before = old
            .views
            .iter()
            .find(|o| o.name == v.name)
            .and_then(|o| o.freshness_us);
        if old.views.iter().any(|o| o.name == v.name) && before != v.freshness_us {
            note(
                format!("view {}", v.name),
                format!(
                    "freshness {} -> {}",
                    duration(before),
                    duration(v.freshness_us)
                ),
            );
        }
    }
    out
}

fn source(o: &Source, s: &Source) -> Vec<String> {
    let mut out = Vec::new();
    let quoted = |x: Option<&String>| x.map_or("none".to_string(), |x| format!("'{x}'"));
    if o.location != s.location {
        out.push(format!(
            "location {} -> {}",
            quoted(o.location.as_ref()),
            quoted(s.location.as_ref())
        ));
    }
    let topic = |s: &Source| {
        s.topic
            .as_ref()
            .map(|t| format!("'{}' format {}", t.name, t.format.clause()))
    };
    if topic(o) != topic(s) {
        out.push(format!(
            "topic {} -> {}",
            topic(o).unwrap_or_else(|| "none".to_string()),
            topic(s).unwrap_or_else(|| "none".to_string())
        ));
    }
    if o.time_column != s.time_column {
        out.push(format!(
            "time column {} -> {}",
            o.time_column, s.time_column
        ));
    }
    for (what, a, b) in [
        ("lateness", Some(o.lateness_us), Some(s.lateness_us)),
        ("delay", Some(o.delay_us), Some(s.delay_us)),
        ("freshness", o.freshness_us, s.freshness_us),
    ] {
        if duration(a) != duration(b) {
            out.push(format!("{what} {} -> {}", duration(a), duration(b)));
        }
    }
    for c in &s.columns {
        let now = ty(&c.ty.name(), c.nullable);
        match o.columns.iter().find(|x| x.name == c.name) {
            None => out.push(format!("column {} added ({now})", c.name)),
            Some(x) => {
                let before = ty(&x.ty.name(), x.nullable);
                if before != now {
                    out.push(format!("column {} {before} -> {now}", c.name));
                }
            }
        }
    }
    for x in &o.columns {
        if !s.columns.iter().any(|c| c.name == x.name) {
            out.push(format!("column {} removed", x.name));
        }
    }
    out
}

/// Metadata notes of every declaration both projects have, and features moved
/// between views or services.
pub fn metadata(
    old: &Project,
    new: &Project,
    old_defs: &BTreeMap<String, Definition>,
    new_defs: &BTreeMap<String, Definition>,
    order: &[String],
) -> Vec<Note> {
    let mut out = Vec::new();
    let mut pairs: Vec<(String, &Meta, &Meta)> = Vec::new();
    macro_rules! pair {
        ($list:ident, $what:literal) => {
            for n in &new.$list {
                if let Some(o) = old.$list.iter().find(|o| o.name == n.name) {
                    pairs.push((format!(concat!($what, " {}"), n.name), &o.meta, &n.meta));
                }
            }
        };
    }
    pair!(sources, "source");
    pair!(entities, "entity");
    pair!(views, "view");
    pair!(requests, "request");
    pair!(services, "service");
    for (subject, o, n) in pairs {
        meta(&subject, o, n, &mut out);
    }
    for name in order {
        let (Some(o), Some(n)) = (old_defs.get(name), new_defs.get(name)) else {
            continue;
        };
        let subject = format!("feature {name}");
        if o.context.owner != n.context.owner {
            let place = |d: &Definition| {
                d.context
                    .owner
                    .as_ref()
                    .map_or("?".to_string(), |o| o.to_string())
            };
            out.push(Note {
                subject: subject.clone(),
                change: format!("declared in {} -> {}", place(o), place(n)),
            });
        }
        meta(&subject, &o.context.meta, &n.context.meta, &mut out);
    }
    out
}

fn meta(subject: &str, o: &Meta, n: &Meta, out: &mut Vec<Note>) {
    let mut note = |change: String| {
        out.push(Note {
            subject: subject.to_string(),
            change,
        })
    };
    if o.docs != n.docs {
        note("doc comment changed".to_string());
    }
    if o.owner != n.owner {
        let owner =
            |x: &Option<String>| x.as_ref().map_or("none".to_string(), |x| format!("'{x}'"));
        note(format!("owner {} -> {}", owner(&o.owner), owner(&n.owner)));
    }
    if o.tags != n.tags {
        let tags = |t: &[String]| {
            let t: Vec<String> = t.iter().map(|x| format!("'{x}'")).collect();
            format!("[{}]", t.join(", "))
        };
        note(format!("tags {} -> {}", tags(&o.tags), tags(&n.tags)));
    }
}
