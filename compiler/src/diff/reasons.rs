//! Why a feature's meaning changed, in human terms: one line per part of its meaning
//! that differs (`window 1h -> 2h`, `source tx: lateness 5m -> 10m`, `source logins
//! added`, `let big changed: ...`, `lookup risk: m.a at k -> m.b at k`, `reads feature
//! x, which changed`, `looks up m.a, which changed`).
//!
//! Expressions are explained from what the user wrote (lets by name, no inserted
//! casts), so a column that changed type is reported once, as a column, and not again
//! as every expression that reads it.

use super::meaning::{
    AggregateMeaning, Body, Context, Definition, DerivedMeaning, EntityMeaning, SourceMeaning,
    Window,
};
use crate::check::durations::display;

/// The reasons `old` became `new`; `read_changed` says whether a feature a derived
/// feature reads, or an aggregation looks up, changed meaning.
pub fn reasons(
    old: &Definition,
    new: &Definition,
    read_changed: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    match (&old.meaning.body, &new.meaning.body) {
        (Body::Aggregate(a), Body::Aggregate(b)) => {
            aggregate(a, b, &old.context, &new.context, &mut out);
            looked_up(a, b, read_changed, &mut out);
        }
        (Body::Derived(a), Body::Derived(b)) => {
            derived(a, b, &old.context, &new.context, read_changed, &mut out)
        }
        (Body::Aggregate(_), Body::Derived(_)) => {
            out.push("was an aggregation, now a derived feature".to_string())
        }
        (Body::Derived(_), Body::Aggregate(_)) => {
            out.push("was a derived feature, now an aggregation".to_string())
        }
    }
    if old.meaning.result != new.meaning.result {
        out.push(format!(
            "result type {} -> {}",
            old.meaning.result, new.meaning.result
        ));
    }
    if out.is_empty() {
        // Every difference of a meaning has a line above; this is a safety net.
        out.push("definition changed".to_string());
    }
    out
}

fn aggregate(
    a: &AggregateMeaning,
    b: &AggregateMeaning,
    old: &Context,
    new: &Context,
    out: &mut Vec<String>,
) {
    sources(a, b, out);
    entity(&a.entity, &b.entity, out);
    if a.agg != b.agg {
        out.push(format!("aggregation {} -> {}", a.agg, b.agg));
    }
    let before = out.len();
    expression("argument", &old.arg, &new.arg, out);
    expression("where", &old.filter, &new.filter, out);
    expression("view where", &old.view_filter, &new.view_filter, out);
    let lets = lets(old, new, out);
    // The same text as written and the same lets, yet other inlined text: a let now
    // shadows a column (or no longer does). Say so with the inlined text.
    if out.len() == before && !lets {
        let names = ["argument", "where", "view where"];
        for ((name, x), y) in names.iter().zip(&old.inlined).zip(&new.inlined) {
            if x != y {
                out.push(format!(
                    "{name} (lets inlined) {} -> {}",
                    code(x.as_deref()),
                    code(y.as_deref())
                ));
            }
        }
    }
    window(&a.window, &b.window, out);
    if a.ttl_us != b.ttl_us {
        out.push(format!(
            "view ttl {} -> {}",
            duration(a.ttl_us),
            duration(b.ttl_us)
        ));
    }
}

/// The sources' part. One source on each side: its name, or what of it the feature
/// depends on. A view over several: each source added to or removed from the view
/// (its events now count, or no longer do), then what changed of those on both sides.
fn sources(a: &AggregateMeaning, b: &AggregateMeaning, out: &mut Vec<String>) {
    if a.more_sources.is_empty() && b.more_sources.is_empty() {
        return source(&a.source, &b.source, out);
    }
    let find = |m: &'_ AggregateMeaning, name: &str| m.sources().any(|s| s.name == name);
    for s in b.sources().filter(|s| !find(a, &s.name)) {
        out.push(format!("source {} added", s.name));
    }
    for s in a.sources().filter(|s| !find(b, &s.name)) {
        out.push(format!("source {} removed", s.name));
    }
    for x in a.sources() {
        if let Some(y) = b.sources().find(|y| y.name == x.name) {
            source(x, y, out);
            union_columns(x, y, a, b, out);
        }
    }
}

/// A column the feature reads that source `x` (of a view over several) gained or
/// lost, as `y`: its events read a value now, or null now (semantics.md, "Views over
/// several sources"). Only columns read on both sides: a column read on one side
/// only is an expression's change, told as one.
fn union_columns(
    x: &SourceMeaning,
    y: &SourceMeaning,
    a: &AggregateMeaning,
    b: &AggregateMeaning,
    out: &mut Vec<String>,
) {
    let reads = |m: &AggregateMeaning, c: &str| m.sources().any(|s| s.columns.contains_key(c));
    for (column, ty) in &y.columns {
        if !x.columns.contains_key(column) && reads(a, column) {
            out.push(format!("source {}: column {column} added ({ty})", x.name));
        }
    }
    for (column, ty) in &x.columns {
        if !y.columns.contains_key(column) && reads(b, column) {
            out.push(format!("source {}: column {column} removed ({ty})", x.name));
        }
    }
}

/// The source's part: its name, or what of it the feature depends on.
fn source(a: &SourceMeaning, b: &SourceMeaning, out: &mut Vec<String>) {
    if a.name != b.name {
        out.push(format!("source {} -> {}", a.name, b.name));
        return;
    }
    let name = &a.name;
    if a.time_column != b.time_column {
        out.push(format!(
            "source {name}: time column {} -> {}",
            a.time_column, b.time_column
        ));
    }
    if a.lateness_us != b.lateness_us {
        out.push(format!(
            "source {name}: lateness {} -> {}",
            duration(Some(a.lateness_us)),
            duration(Some(b.lateness_us))
        ));
    }
    if a.delay_us != b.delay_us {
        out.push(format!(
            "source {name}: delay {} -> {}",
            duration(Some(a.delay_us)),
            duration(Some(b.delay_us))
        ));
    }
    for (column, ty) in &a.columns {
        if let Some(now) = b.columns.get(column).filter(|now| *now != ty) {
            out.push(format!("source {name}: column {column} {ty} -> {now}"));
        }
    }
}

fn entity(a: &EntityMeaning, b: &EntityMeaning, out: &mut Vec<String>) {
    if a.name != b.name {
        out.push(format!("entity {} -> {}", a.name, b.name));
        return;
    }
    let keys = |e: &EntityMeaning| {
        let keys: Vec<String> = e
            .keys
            .iter()
            .map(|k| format!("{}: {}", k.name, k.ty))
            .collect();
        format!("({})", keys.join(", "))
    };
    if keys(a) != keys(b) {
        out.push(format!("entity {}: key {} -> {}", a.name, keys(a), keys(b)));
        return;
    }
    for (x, y) in a.keys.iter().zip(&b.keys) {
        if x.column != y.column {
            out.push(format!(
                "entity {}: key {} read from column {} -> {}",
                a.name, x.name, x.column, y.column
            ));
        }
    }
}

fn expression(what: &str, a: &Option<String>, b: &Option<String>, out: &mut Vec<String>) {
    match (a, b) {
        (Some(x), Some(y)) if x != y => out.push(format!("{what} changed: `{x}` -> `{y}`")),
        (None, Some(y)) => out.push(format!("{what} added: `{y}`")),
        (Some(x), None) => out.push(format!("{what} removed: `{x}`")),
        _ => {}
    }
}

/// Lets read on both sides whose own expression changed (a lookup's target or key
/// columns, for a let that is a lookup on both sides); whether there was one.
fn lets(old: &Context, new: &Context, out: &mut Vec<String>) -> bool {
    let mut any = false;
    for (name, x) in &old.lets {
        let Some(y) = new.lets.get(name).filter(|y| *y != x) else {
            continue;
        };
        match (old.lookups.get(name), new.lookups.get(name)) {
            (Some(x), Some(y)) => out.push(format!("lookup {name}: {x} -> {y}")),
            _ => out.push(format!("let {name} changed: `{x}` -> `{y}`")),
        }
        any = true;
    }
    any
}

/// Features looked up on both sides whose meaning changed.
fn looked_up(
    a: &AggregateMeaning,
    b: &AggregateMeaning,
    changed: &dyn Fn(&str) -> bool,
    out: &mut Vec<String>,
) {
    for l in &b.lookups {
        if a.lookups.contains(l) && changed(&l.feature) {
            out.push(format!("looks up {}.{}, which changed", l.view, l.feature));
        }
    }
}

fn window(a: &Window, b: &Window, out: &mut Vec<String>) {
    if a.window_us != b.window_us {
        // No duration is a lifetime window, unless a count bounds it.
        let w = |x: &Window| match (x.window_us, x.events) {
            (Some(w), _) => display(w),
            (None, None) => "lifetime".to_string(),
            (None, Some(_)) => "none".to_string(),
        };
        out.push(format!("window {} -> {}", w(a), w(b)));
    }
    if a.events != b.events {
        let n = |n: Option<u32>| n.map_or("none".to_string(), |n| format!("{n} events"));
        out.push(format!(
            "count of events {} -> {}",
            n(a.events),
            n(b.events)
        ));
    }
    if a.offset_us != b.offset_us {
        out.push(format!(
            "offset {} -> {}",
            duration(Some(a.offset_us)),
            duration(Some(b.offset_us))
        ));
    }
    if a.exclusive_end != b.exclusive_end {
        out.push(
            if b.exclusive_end {
                "exclusive end added"
            } else {
                "exclusive end removed"
            }
            .to_string(),
        );
    }
}

fn derived(
    a: &DerivedMeaning,
    b: &DerivedMeaning,
    old: &Context,
    new: &Context,
    read_changed: &dyn Fn(&str) -> bool,
    out: &mut Vec<String>,
) {
    expression("expression", &old.expr, &new.expr, out);
    for name in &b.reads {
        if a.reads.contains(name) && read_changed(name) {
            out.push(format!("reads feature {name}, which changed"));
        }
    }
    for (field, ty) in &a.request_fields {
        if let Some(now) = b.request_fields.get(field).filter(|now| *now != ty) {
            out.push(format!("request field {field} {ty} -> {now}"));
        }
    }
}

/// A duration as the language writes it; `none` for no duration (or zero).
pub fn duration(us: Option<i64>) -> String {
    match us {
        Some(us) if us != 0 => display(us),
        _ => "none".to_string(),
    }
}

fn code(text: Option<&str>) -> String {
    text.map_or("none".to_string(), |t| format!("`{t}`"))
}
