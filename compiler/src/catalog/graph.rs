//! The lineage graph: sources and requests, lets, features and services as nodes,
//! direct reads as edges, each node on a layer so that every edge goes left to
//! right (sources → lets → aggregates → derived features → services). A let that is
//! an as-of lookup reads the looked-up feature (an edge from it) and its key
//! columns' sources; it and what reads it then stand right of that feature.
//!
//! A plain model; `svg.rs` lays it out and draws it. Nodes are in declaration order
//! within each kind, which is the order they are drawn in their layer.

use super::lineage::{aggregate_exprs, column_indexes, direct_reads, lookup_of_let};
use featc_runtime::ir::{FeatureId, FeatureKind, Project};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    Source,
    Request,
    Let,
    Aggregate,
    Derived,
    Service,
}

impl NodeKind {
    /// The CSS class of its SVG group.
    pub fn class(self) -> &'static str {
        match self {
            NodeKind::Source => "source",
            NodeKind::Request => "request",
            NodeKind::Let => "let",
            NodeKind::Aggregate => "feature aggregate",
            NodeKind::Derived => "feature derived",
            NodeKind::Service => "service",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    /// The declared name (a let: `view.let`).
    pub name: String,
    /// The id of its entry in the HTML page (`feature-3`).
    pub anchor: String,
    /// Its column, left to right; every edge goes to a greater layer.
    pub layer: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    /// `(from, to)` node indexes: `to` reads `from`. Sorted, each once.
    pub edges: Vec<(usize, usize)>,
}

/// The graph of a checked project. Feature `i` of `all_features` is `feature-{i}`.
pub fn graph(p: &Project) -> Graph {
    let mut nodes = Vec::new();
    let mut edges = BTreeSet::new();
    let sources: Vec<usize> = (0..p.sources.len()).collect();
    for (i, s) in p.sources.iter().enumerate() {
        nodes.push(node(NodeKind::Source, &s.name, format!("source-{i}"), 0));
    }
    let requests: Vec<usize> = (0..p.requests.len()).map(|i| i + nodes.len()).collect();
    for (i, r) in p.requests.iter().enumerate() {
        nodes.push(node(NodeKind::Request, &r.name, format!("request-{i}"), 0));
    }
    // Lets: layer 1 + the depth of the lets they read.
    let mut let_node: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    // A lookup's let and the feature it looks up (its edge once features have nodes).
    let mut lookups: Vec<(usize, FeatureId)> = Vec::new();
    let mut let_layers = 0;
    for (vi, v) in p.views.iter().enumerate() {
        for (li, l) in v.lets.iter().enumerate() {
            let (mut columns, lets) = direct_reads(p, v, li, [&l.expr]);
            if let Some(k) = lookup_of_let(v, li).and_then(|k| v.lookups.get(k)) {
                lookups.push((nodes.len(), k.feature));
                columns.extend(k.keys.iter().flat_map(|c| column_indexes(p, v, c)));
            }
            let mut layer = 1;
            let me = nodes.len();
            for r in lets {
                if let Some(&n) = let_node.get(&(vi, r)) {
                    layer = layer.max(nodes.get(n).map_or(1, |n: &Node| n.layer + 1));
                    edges.insert((n, me));
                }
            }
            // An edge from each source whose columns it reads: in a view over
            // several sources, a let may read columns of some of them only.
            let read: BTreeSet<usize> = columns.iter().map(|&(s, _)| s).collect();
            edges.extend(
                read.iter()
                    .filter_map(|&s| sources.get(s).map(|&s| (s, me))),
            );
            let_layers = let_layers.max(layer);
            let name = format!("{}.{}", v.name, l.name);
            nodes.push(node(NodeKind::Let, &name, format!("view-{vi}"), layer));
            let_node.insert((vi, li), me);
        }
    }
    // Features: aggregates on one layer, derived ones after what they read.
    let aggregate_layer = let_layers + 1;
    let all = p.all_features();
    let first = nodes.len();
    let index: BTreeMap<FeatureId, usize> = all
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, first + i))
        .collect();
    for (i, &id) in all.iter().enumerate() {
        let f = p.feature(id);
        // A derived feature stands right of the aggregates even when it reads only
        // request fields, so each column holds one kind.
        let (kind, layer) = match f.kind {
            FeatureKind::Aggregate(_) => (NodeKind::Aggregate, aggregate_layer),
            FeatureKind::Derived(_) => (NodeKind::Derived, aggregate_layer + 1),
        };
        nodes.push(node(kind, &f.name, format!("feature-{i}"), layer));
    }
    edges.extend(
        lookups
            .iter()
            .filter_map(|&(me, f)| index.get(&f).map(|&n| (n, me))),
    );
    for (i, &id) in all.iter().enumerate() {
        let me = first + i;
        match (&p.feature(id).kind, id) {
            (FeatureKind::Aggregate(_), FeatureId::View { view, feature }) => {
                let Some(v) = p.views.get(view) else { continue };
                // Every event of each of the view's sources counts (a `count(*)`
                // reads no column), so an edge from each.
                edges.extend(
                    v.sources()
                        .filter_map(|s| sources.get(s.0).map(|&s| (s, me))),
                );
                let (_, lets) = direct_reads(p, v, v.lets.len(), aggregate_exprs(v, feature));
                edges.extend(
                    lets.iter()
                        .filter_map(|&l| let_node.get(&(view, l)).map(|&n| (n, me))),
                );
            }
            (FeatureKind::Derived(d), _) => {
                edges.extend(
                    d.reads
                        .iter()
                        .filter_map(|r| index.get(r).map(|&n| (n, me))),
                );
                edges.extend(
                    d.request_fields
                        .iter()
                        .filter_map(|&(r, _)| requests.get(r).map(|&n| (n, me))),
                );
            }
            _ => {}
        }
    }
    // A derived feature's layer: one after the furthest feature it reads; a lookup's
    // let (and so what reads it) one after the feature it looks up. Features are in
    // no particular dependency order, so relax until nothing moves (at most one round
    // per node: derived features and lookups form no cycle). Without lookups, only
    // derived features move.
    for _ in 0..=nodes.len() {
        let mut moved = false;
        for &(from, to) in &edges {
            let (Some(a), Some(b)) = (nodes.get(from), nodes.get(to)) else {
                continue;
            };
            if b.kind != NodeKind::Source && a.layer >= b.layer {
                let layer = a.layer + 1;
                if let Some(n) = nodes.get_mut(to) {
                    n.layer = layer;
                }
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    let service_layer = nodes.iter().map(|n| n.layer).max().unwrap_or(0) + 1;
    for (si, s) in p.services.iter().enumerate() {
        let me = nodes.len();
        nodes.push(node(
            NodeKind::Service,
            &s.name,
            format!("service-{si}"),
            service_layer,
        ));
        edges.extend(
            s.features
                .iter()
                .filter_map(|f| index.get(f).map(|&n| (n, me))),
        );
    }
    compact(&mut nodes);
    Graph {
        nodes,
        edges: edges.into_iter().collect(),
    }
}

fn node(kind: NodeKind, name: &str, anchor: String, layer: usize) -> Node {
    Node {
        kind,
        name: name.to_string(),
        anchor,
        layer,
    }
}

/// Renumbers the layers so none is empty (a project without lets has no let column).
fn compact(nodes: &mut [Node]) {
    let used: BTreeSet<usize> = nodes.iter().map(|n| n.layer).collect();
    let rank: BTreeMap<usize, usize> = used.into_iter().enumerate().map(|(i, l)| (l, i)).collect();
    for n in nodes.iter_mut() {
        n.layer = rank.get(&n.layer).copied().unwrap_or(n.layer);
    }
}
