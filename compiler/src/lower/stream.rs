//! Lowering of a checked project to a `StreamGraph` (the streaming plan), and its
//! stable text printer for `featc build --emit stream`.
//!
//! One source node per source used, one derive node per view used (its filter and
//! lets), one key_by + aggregate pair per (source, entity, key columns) so that views
//! of the same stream and key share one state per entity, and one output node listing
//! the requested features in request order plus every service they fully cover.

use std::collections::HashMap;
use std::fmt::Write;

use featc_runtime::ir::{FeatureId, Project, Span};
use featc_runtime::stream::graph::{
    AggFeature, AggregateOp, DeriveOp, Edge, KeyByOp, Node, NodeId, Op, OutputFeature, OutputOp,
    ServiceOut, SourceOp, StreamGraph, TtlCheck, GRAPH_VERSION,
};

use crate::check::durations::display as duration;
use crate::print::ir::top;

/// Why a project could not be lowered to a stream graph.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamLowerError {
    /// A feature id that is not in the project (an internal error of the caller).
    UnknownFeature(FeatureId),
}

impl std::fmt::Display for StreamLowerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamLowerError::UnknownFeature(id) => {
                write!(
                    f,
                    "internal error: no feature {}.{} in the project",
                    id.view, id.feature
                )
            }
        }
    }
}

impl std::error::Error for StreamLowerError {}

/// Builds the stream graph computing `features` (in that order; duplicates allowed).
pub fn lower_stream(
    project: &Project,
    features: &[FeatureId],
) -> Result<StreamGraph, StreamLowerError> {
    for id in features {
        let ok = project
            .views
            .get(id.view)
            .is_some_and(|v| id.feature < v.features.len());
        if !ok {
            return Err(StreamLowerError::UnknownFeature(*id));
        }
    }
    let mut b = Builder {
        nodes: Vec::new(),
        edges: Vec::new(),
    };

    // Sources and views in declaration order, only those the features need.
    let mut used_views: Vec<usize> = features.iter().map(|id| id.view).collect();
    used_views.sort_unstable();
    used_views.dedup();
    let mut used_sources: Vec<usize> = used_views
        .iter()
        .map(|&v| project.views[v].source.0)
        .collect();
    used_sources.sort_unstable();
    used_sources.dedup();

    let mut source_nodes = HashMap::new();
    for &s in &used_sources {
        let src = &project.sources[s];
        let id = b.push(
            src.span,
            Op::Source(SourceOp {
                name: src.name.clone(),
                time_column: src.time_column.clone(),
                columns: src.columns.clone(),
                lateness_us: src.lateness_us,
            }),
        );
        source_nodes.insert(s, id);
    }
    let mut derive_nodes = HashMap::new();
    for &v in &used_views {
        let view = &project.views[v];
        let source = source_nodes[&view.source.0];
        let id = b.push(
            view.span,
            Op::Derive(DeriveOp {
                view: view.name.clone(),
                source,
                filter: view.filter.clone(),
                lets: view.lets.clone(),
            }),
        );
        b.edge(source, id);
        derive_nodes.insert(v, id);
    }

    // Groups in order of their first view.
    type GroupKey = (usize, usize, Vec<String>);
    let group_of = |v: usize| -> GroupKey {
        let view = &project.views[v];
        (view.source.0, view.entity.0, view.key_columns.clone())
    };
    let mut groups: Vec<(GroupKey, Vec<usize>)> = Vec::new();
    for &v in &used_views {
        let key = group_of(v);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, views)) => views.push(v),
            None => groups.push((key, vec![v])),
        }
    }

    // Aggregate features in request order within each group; a feature requested twice
    // is computed once.
    let mut placed: HashMap<FeatureId, (NodeId, usize)> = HashMap::new();
    let mut aggregate_nodes = Vec::new();
    for ((source, entity, key_columns), views) in &groups {
        let ent = &project.entities[*entity];
        let source_node = source_nodes[source];
        let key_by = b.push(
            ent.span,
            Op::KeyBy(KeyByOp {
                entity: ent.name.clone(),
                source: source_node,
                key_columns: key_columns.clone(),
                key_names: ent.keys.iter().map(|k| k.name.clone()).collect(),
                key_types: ent.keys.iter().map(|k| k.ty).collect(),
            }),
        );
        for v in views {
            b.edge(derive_nodes[v], key_by);
        }
        let mut ttls = Vec::new();
        let mut ttl_of_view = HashMap::new();
        for &v in views {
            if let Some(ttl_us) = project.views[v].ttl_us {
                ttl_of_view.insert(v, ttls.len());
                ttls.push(TtlCheck {
                    derive: derive_nodes[&v],
                    ttl_us,
                });
            }
        }
        let agg_id = NodeId(b.nodes.len());
        let mut agg_features = Vec::new();
        for id in features {
            if !views.contains(&id.view) || placed.contains_key(id) {
                continue;
            }
            let f = project.feature(*id);
            placed.insert(*id, (agg_id, agg_features.len()));
            agg_features.push(AggFeature {
                name: f.name.clone(),
                derive: derive_nodes[&id.view],
                agg: f.agg,
                arg: f.arg.clone(),
                filter: f.filter.clone(),
                window_us: f.window_us,
                ttl: ttl_of_view.get(&id.view).copied(),
                ty: f.ty,
                span: f.span,
            });
        }
        let span = project.views[views[0]].span;
        let pushed = b.push(
            span,
            Op::Aggregate(AggregateOp {
                key_by,
                features: agg_features,
                ttls,
            }),
        );
        debug_assert_eq!(pushed, agg_id);
        b.edge(key_by, agg_id);
        aggregate_nodes.push(agg_id);
    }

    let mut out_features = Vec::new();
    let mut out_index: HashMap<FeatureId, usize> = HashMap::new();
    for id in features {
        let f = project.feature(*id);
        let view = &project.views[id.view];
        let (aggregate, index) = placed[id];
        out_index.entry(*id).or_insert(out_features.len());
        out_features.push(OutputFeature {
            name: f.name.clone(),
            ty: f.ty,
            nullable: f.agg.null_when_empty() || view.ttl_us.is_some(),
            aggregate,
            index,
        });
    }
    let services = project
        .services
        .iter()
        .filter_map(|s| {
            let idx: Option<Vec<usize>> = s
                .features
                .iter()
                .map(|id| out_index.get(id).copied())
                .collect();
            idx.map(|features| ServiceOut {
                name: s.name.clone(),
                features,
                span: s.span,
            })
        })
        .collect();
    let span = project.services.first().map(|s| s.span).unwrap_or_default();
    let output = b.push(
        span,
        Op::Output(OutputOp {
            features: out_features,
            services,
        }),
    );
    for a in aggregate_nodes {
        b.edge(a, output);
    }
    Ok(StreamGraph {
        version: GRAPH_VERSION,
        files: project.files.clone(),
        nodes: b.nodes,
        edges: b.edges,
    })
}

struct Builder {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

impl Builder {
    fn push(&mut self, span: Span, op: Op) -> NodeId {
        let id = NodeId(self.nodes.len());
        self.nodes.push(Node { id, span, op });
        id
    }

    fn edge(&mut self, from: NodeId, to: NodeId) {
        self.edges.push(Edge { from, to });
    }
}

/// The graph as stable text: one block per node in id order, its inputs after `<-`,
/// spans as `@file:start..end` byte ranges.
pub fn print_stream(g: &StreamGraph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "stream graph v{}", g.version);
    for (i, f) in g.files.iter().enumerate() {
        let _ = writeln!(out, "file {i}: {f}");
    }
    for n in &g.nodes {
        out.push('\n');
        let inputs: Vec<String> = g
            .edges
            .iter()
            .filter(|e| e.to == n.id)
            .map(|e| format!("n{}", e.from.0))
            .collect();
        let from = if inputs.is_empty() {
            String::new()
        } else {
            format!(" <- {}", inputs.join(", "))
        };
        let at = format!("@{}:{}..{}", n.span.file, n.span.start, n.span.end);
        match &n.op {
            Op::Source(s) => {
                let _ = writeln!(out, "n{} source {}{from}  {at}", n.id.0, s.name);
                let _ = writeln!(
                    out,
                    "  time {}, lateness {}",
                    s.time_column,
                    lateness(s.lateness_us)
                );
                for c in &s.columns {
                    let q = if c.nullable { "?" } else { "" };
                    let _ = writeln!(out, "  column {}: {}{q}", c.name, c.ty.name());
                }
            }
            Op::Derive(d) => {
                let _ = writeln!(out, "n{} derive view {}{from}  {at}", n.id.0, d.view);
                if let Some(f) = &d.filter {
                    let _ = writeln!(out, "  where {}", top(f));
                }
                for l in &d.lets {
                    let _ = writeln!(
                        out,
                        "  let {}: {} = {}",
                        l.name,
                        l.expr.ty.name(),
                        top(&l.expr)
                    );
                }
            }
            Op::KeyBy(k) => {
                let keys: Vec<String> = k
                    .key_names
                    .iter()
                    .zip(&k.key_columns)
                    .zip(&k.key_types)
                    .map(|((name, col), ty)| format!("{name}: {} = {col}", ty.name()))
                    .collect();
                let _ = writeln!(
                    out,
                    "n{} key_by {} ({}){from}  {at}",
                    n.id.0,
                    k.entity,
                    keys.join(", ")
                );
            }
            Op::Aggregate(a) => {
                let _ = writeln!(out, "n{} aggregate{from}  {at}", n.id.0);
                for (i, f) in a.features.iter().enumerate() {
                    let arg = f.arg.as_ref().map(top).unwrap_or_else(|| "*".into());
                    let mut line = format!(
                        "  f{i} {}: {} = {}({arg})",
                        f.name,
                        f.ty.name(),
                        f.agg.name()
                    );
                    if let Some(w) = &f.filter {
                        let _ = write!(line, " where {}", top(w));
                    }
                    match f.window_us {
                        Some(w) => {
                            let _ = write!(line, " over {}", duration(w));
                        }
                        None => line.push_str(" lifetime"),
                    }
                    let _ = write!(line, " [n{}", f.derive.0);
                    if let Some(t) = f.ttl {
                        let _ = write!(line, ", ttl{t}");
                    }
                    line.push(']');
                    let _ = writeln!(out, "{line}");
                }
                for (i, t) in a.ttls.iter().enumerate() {
                    let _ = writeln!(out, "  ttl{i} {} [n{}]", duration(t.ttl_us), t.derive.0);
                }
            }
            Op::Output(o) => {
                let _ = writeln!(out, "n{} output{from}  {at}", n.id.0);
                for f in &o.features {
                    let q = if f.nullable { "?" } else { "" };
                    let _ = writeln!(
                        out,
                        "  {}: {}{q} = n{}.f{}",
                        f.name,
                        f.ty.name(),
                        f.aggregate.0,
                        f.index
                    );
                }
                for s in &o.services {
                    let names: Vec<&str> = s
                        .features
                        .iter()
                        .map(|&i| o.features[i].name.as_str())
                        .collect();
                    let _ = writeln!(out, "  service {}: {}", s.name, names.join(", "));
                }
            }
        }
    }
    out
}

fn lateness(us: i64) -> String {
    if us == 0 {
        "0".into()
    } else {
        duration(us)
    }
}
