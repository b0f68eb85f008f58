//! The feature plan as stable text: one block per group with its key, its slots
//! (inputs `in<i>`, predicates `pred<i>`, filters `filter<i>`) and its features.
//! `--emit batch` prints it above the DataFusion plan, `--emit stream` inside each
//! aggregate node.

use std::fmt::Write;

use featc_runtime::plan::{DerivedPlan, FeaturePlan, GroupPlan, Output, Plan};

use super::ir::{name, top, ty};
use crate::check::durations::display as duration;

/// Every group of `plan`, numbered `g0, g1, ...`, its derived features `d0, d1, ...`,
/// then the output order.
pub fn print_plan(plan: &Plan) -> String {
    let mut out = String::new();
    for (g, group) in plan.groups.iter().enumerate() {
        let span = group.span;
        let _ = writeln!(
            out,
            "group g{g}: {}  @{}:{}..{}",
            group.describe(),
            span.file,
            span.start,
            span.end
        );
        print_group(&mut out, group, "  ");
        out.push('\n');
    }
    for (d, derived) in plan.derived.iter().enumerate() {
        let _ = writeln!(
            out,
            "derived d{d}: {}: {} = {}  @{}:{}..{}",
            name(&derived.name),
            ty(&derived.ty.name(), derived.nullable),
            top(&derived.expr),
            derived.span.file,
            derived.span.start,
            derived.span.end
        );
        let _ = writeln!(out, "  {}", derived_inputs(derived, "g"));
        out.push('\n');
    }
    let outputs: Vec<String> = plan
        .outputs
        .iter()
        .map(|o| match o {
            Output::Aggregate(r) => format!("g{}.f{}", r.group, r.feature),
            Output::Derived(d) => format!("d{d}"),
        })
        .collect();
    let _ = writeln!(out, "outputs: {}", outputs.join(", "));
    out
}

/// What a derived feature reads: `reads g0.f1, g1.f0; request checkout.amount: float64`
/// (`group` prefixes a read's group: `g` in plans, `a` for a graph's aggregates).
pub fn derived_inputs(d: &DerivedPlan, group: &str) -> String {
    let reads: Vec<String> = d
        .reads
        .iter()
        .map(|r| format!("{group}{}.f{}", r.group, r.feature))
        .collect();
    let mut text = format!("of {}, reads {}", name(&d.owner), reads.join(", "));
    if !d.request.is_empty() {
        let fields: Vec<String> = d
            .request
            .iter()
            .map(|f| {
                format!(
                    "{}.{}: {}",
                    name(&f.request),
                    name(&f.field),
                    ty(&f.ty.name(), f.nullable)
                )
            })
            .collect();
        let _ = write!(text, "; request {}", fields.join(", "));
    }
    text
}

/// A group's body, each line starting with `indent`.
pub fn print_group(out: &mut String, group: &GroupPlan, indent: &str) {
    let _ = writeln!(
        out,
        "{indent}entity {}, time {}",
        name(&group.entity),
        name(&group.time_column)
    );
    for m in &group.union {
        let columns: Vec<String> = m.columns.iter().map(|c| name(c)).collect();
        let _ = writeln!(
            out,
            "{indent}union {} (time {}): {}",
            name(&m.source),
            name(&m.time_column),
            columns.join(", ")
        );
    }
    for l in &group.lookups {
        let keys: Vec<String> = l.keys.iter().map(|c| name(c)).collect();
        let _ = writeln!(
            out,
            "{indent}lookup {} at each event's time, key {}:",
            l.column,
            keys.join(", ")
        );
        for line in print_plan(&l.plan).lines() {
            let _ = writeln!(out, "{indent}  | {line}");
        }
    }
    if group.delay_us != 0 {
        let _ = writeln!(
            out,
            "{indent}delay {}: read at t - {0} (windows and ttls as that read sees them)",
            duration(group.delay_us)
        );
    }
    for k in &group.keys {
        let _ = writeln!(
            out,
            "{indent}key {}: {} = {}",
            name(&k.name),
            k.ty.name(),
            name(&k.column)
        );
    }
    for (i, e) in group.inputs.iter().enumerate() {
        let _ = writeln!(
            out,
            "{indent}in{i}: {} = {}",
            ty(&e.ty.name(), e.nullable),
            top(e)
        );
    }
    for (i, e) in group.predicates.iter().enumerate() {
        let _ = writeln!(out, "{indent}pred{i} = {}", top(e));
    }
    for (i, f) in group.filters.iter().enumerate() {
        let preds: Vec<String> = f.iter().map(|p| format!("pred{p}")).collect();
        let _ = writeln!(out, "{indent}filter{i} = {}", preds.join(" and "));
    }
    for (i, f) in group.features.iter().enumerate() {
        let _ = writeln!(out, "{indent}f{i} {}", feature(f));
    }
}

/// `name: type = agg(in0) where filter1 over 1h ttl 7d where filter0 [view v where
/// filter0]`.
fn feature(f: &FeaturePlan) -> String {
    let arg = match f.input {
        Some(i) => format!("in{i}"),
        None => "*".to_string(),
    };
    let parameters = f
        .agg
        .parameters()
        .map_or(String::new(), |p| format!(", {p}"));
    let mut s = format!(
        "{}: {} = {}({arg}{parameters})",
        name(&f.name),
        ty(&f.ty.name(), f.nullable()),
        f.agg.name()
    );
    if let Some(w) = f.filter {
        let _ = write!(s, " where filter{w}");
    }
    match (f.window_us, f.events) {
        (None, None) => s.push_str(" lifetime"),
        (window, events) => {
            if let Some(w) = window {
                let _ = write!(s, " over {}", duration(w));
            }
            match (window, events) {
                (Some(_), Some(n)) => {
                    let _ = write!(s, " max {n} events");
                }
                (None, Some(n)) => {
                    let _ = write!(s, " over {n} events");
                }
                _ => {}
            }
            if f.shift_us != 0 {
                let _ = write!(s, " read at t-{}", duration(f.shift_us));
            }
        }
    }
    if let Some(t) = f.ttl {
        let _ = write!(s, " ttl {}", duration(t.ttl_us));
        if let Some(w) = t.filter {
            let _ = write!(s, " where filter{w}");
        }
    }
    match f.view_filter {
        Some(w) => {
            let _ = write!(s, " [view {} where filter{w}]", name(&f.view));
        }
        None => {
            let _ = write!(s, " [view {}]", name(&f.view));
        }
    }
    s
}
