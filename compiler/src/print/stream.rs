//! The stream graph as stable text (`featc build --emit stream`): one block per node
//! in id order, its inputs after `<-`, spans as `@file:start..end` byte ranges; an
//! aggregate node shows its group plan; a derived feature's reads name aggregate
//! nodes by rank (`a1.f0`: the second aggregate node's feature 0).

use std::fmt::Write;

use featc_runtime::stream::graph::{Op, OutputFeature, StreamGraph};

use super::ir::{columns, name, top, ty};
use super::plan::{derived_inputs, print_group};
use crate::check::durations::display as duration;

pub fn print_stream(g: &StreamGraph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "stream graph v{}", g.version);
    for (i, f) in g.files.iter().enumerate() {
        let _ = writeln!(out, "file {i}: {f}");
    }
    for n in &g.nodes {
        out.push('\n');
        let inputs: Vec<String> = g
            .inputs(n.id)
            .iter()
            .map(|id| format!("n{}", id.0))
            .collect();
        let from = if inputs.is_empty() {
            String::new()
        } else {
            format!(" <- {}", inputs.join(", "))
        };
        let at = format!("@{}:{}..{}", n.span.file, n.span.start, n.span.end);
        match &n.op {
            Op::Source(s) => {
                let _ = writeln!(out, "n{} source {}{from}  {at}", n.id.0, name(&s.name));
                let lateness = match s.lateness_us {
                    0 => "0".to_string(),
                    us => duration(us),
                };
                let freshness = s
                    .freshness_us
                    .map_or(String::new(), |f| format!(", freshness {}", duration(f)));
                let epoch = s
                    .epoch
                    .map_or(String::new(), |u| format!(", epoch {}", u.name()));
                let _ = writeln!(
                    out,
                    "  time {}, lateness {lateness}{freshness}{epoch}",
                    name(&s.time_column)
                );
                columns(&mut out, &s.columns);
            }
            Op::Aggregate(a) => {
                let _ = writeln!(
                    out,
                    "n{} aggregate {}{from}  {at}",
                    n.id.0,
                    a.plan.describe()
                );
                print_group(&mut out, &a.plan, "  ");
            }
            Op::Output(o) => {
                let _ = writeln!(out, "n{} output{from}  {at}", n.id.0);
                let names: Vec<String> = o
                    .features
                    .iter()
                    .map(|f| match (*f, g.output_feature(*f), g.output_derived(*f)) {
                        (OutputFeature::Aggregate { aggregate, index }, Some(p), _) => {
                            let _ = writeln!(
                                out,
                                "  {}: {} = n{}.f{index}",
                                name(&p.name),
                                ty(&p.ty.name(), p.nullable()),
                                aggregate.0,
                            );
                            name(&p.name)
                        }
                        (_, _, Some(d)) => {
                            let _ = writeln!(
                                out,
                                "  {}: {} = {}\n    {}",
                                name(&d.name),
                                ty(&d.ty.name(), d.nullable),
                                top(&d.expr),
                                derived_inputs(d, "a")
                            );
                            name(&d.name)
                        }
                        _ => String::from("?"),
                    })
                    .collect();
                for s in &o.services {
                    let listed: Vec<&str> = s
                        .features
                        .iter()
                        .filter_map(|&i| names.get(i).map(String::as_str))
                        .collect();
                    let _ = writeln!(out, "  service {}: {}", name(&s.name), listed.join(", "));
                }
            }
        }
    }
    out
}
