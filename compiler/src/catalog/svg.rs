//! The lineage graph as inline SVG: one column per layer, nodes stacked in
//! declaration order, edges as curves from a node's right side to its reader's left.
//!
//! Deterministic (integer coordinates from indexes only) and readable without
//! script: every node links to its entry on the page and carries its full name as a
//! `<title>` when the label is cut.

use super::graph::{Graph, Node};
use super::html::escape;
use std::fmt::Write;

const NODE_W: usize = 200;
const NODE_H: usize = 26;
const ROW_H: usize = 34;
const GAP: usize = 90;
const MARGIN: usize = 16;
/// Labels longer than this are cut with an ellipsis (the full name is the title).
const LABEL_CHARS: usize = 27;

/// The graph as an `<svg>` element.
pub fn render(g: &Graph) -> String {
    let layers = g.nodes.iter().map(|n| n.layer + 1).max().unwrap_or(0);
    let mut rows = vec![0usize; layers];
    // Each node's row in its layer, in node (declaration) order.
    let mut row_of = Vec::with_capacity(g.nodes.len());
    for n in &g.nodes {
        let row = rows.get(n.layer).copied().unwrap_or(0);
        row_of.push(row);
        if let Some(r) = rows.get_mut(n.layer) {
            *r += 1;
        }
    }
    let tallest = rows.iter().copied().max().unwrap_or(0);
    let width = 2 * MARGIN + layers * NODE_W + layers.saturating_sub(1) * GAP;
    let height = 2 * MARGIN + tallest * ROW_H;
    let x = |n: &Node| MARGIN + n.layer * (NODE_W + GAP);
    let y = |i: usize| MARGIN + row_of.get(i).copied().unwrap_or(0) * ROW_H;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="lineage-graph" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="Lineage graph">"#
    );
    out.push_str("<g class=\"edges\">\n");
    for &(from, to) in &g.edges {
        let (Some(a), Some(b)) = (g.nodes.get(from), g.nodes.get(to)) else {
            continue;
        };
        let (x1, y1) = (x(a) + NODE_W, y(from) + NODE_H / 2);
        let (x2, y2) = (x(b), y(to) + NODE_H / 2);
        let mid = (x1 + x2) / 2;
        let _ = writeln!(
            out,
            r#"<path class="edge" data-from="{}" data-to="{}" d="M{x1} {y1} C{mid} {y1} {mid} {y2} {x2} {y2}"/>"#,
            escape(&a.anchor),
            escape(&b.anchor)
        );
    }
    out.push_str("</g>\n<g class=\"nodes\">\n");
    for (i, n) in g.nodes.iter().enumerate() {
        let label = cut(&n.name);
        let _ = writeln!(
            out,
            r##"<g class="node {}" data-name="{}" data-anchor="{}"><a href="#{}"><title>{}</title><rect x="{}" y="{}" width="{NODE_W}" height="{NODE_H}" rx="5"/><text x="{}" y="{}">{}</text></a></g>"##,
            n.kind.class(),
            escape(&n.name),
            escape(&n.anchor),
            escape(&n.anchor),
            escape(&n.name),
            x(n),
            y(i),
            x(n) + 8,
            y(i) + NODE_H / 2 + 4,
            escape(&label)
        );
    }
    out.push_str("</g>\n</svg>\n");
    out
}

fn cut(name: &str) -> String {
    if name.chars().count() <= LABEL_CHARS {
        return name.to_string();
    }
    let mut s: String = name.chars().take(LABEL_CHARS - 1).collect();
    s.push('…');
    s
}
