//! `StreamGraph`: the serialized streaming plan of a project (plain serde data), one
//! node per operator, each with the span of the `.feat` text it came from.
//!
//! Shape (edges always point downstream):
//!
//! ```text
//! source ──> derive (one per view: its filter and lets)
//!              └──> key_by (one per (source, key columns))
//!                     └──> aggregate (the features of every view of that group)
//!                            └──> output (feature names/types, services)
//! ```
//!
//! Invariants `featc::lower::stream::lower_stream` upholds and the executor relies on
//! (`StreamGraph::validate` re-checks the structural ones after loading JSON):
//! - `nodes[i].id == NodeId(i)`; every `NodeId` field names a node of the right kind;
//! - a derive's expressions refer only to its source's columns, its time column and
//!   its own earlier lets; a feature's `arg`/`filter` may also use its derive's lets;
//! - every aggregate has exactly one key_by, whose derives all read one source;
//! - output feature `i` is `aggregates[aggregate].features[index]`.

use serde::{Deserialize, Serialize};

use crate::ir::{AggKind, Column, DataType, Expr, Let, Span};

/// The format version written into every graph; bumped on incompatible changes.
pub const GRAPH_VERSION: u32 = 1;

/// A node's position in `StreamGraph::nodes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub usize);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamGraph {
    pub version: u32,
    /// File names of the project, indexed by `Span::file`.
    pub files: Vec<String>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    pub from: NodeId,
    pub to: NodeId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
    pub span: Span,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Source(SourceOp),
    Derive(DeriveOp),
    KeyBy(KeyByOp),
    Aggregate(AggregateOp),
    Output(OutputOp),
}

/// An event stream with its declared schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceOp {
    pub name: String,
    /// The event-time column (timestamp, never null); not in `columns`.
    pub time_column: String,
    pub columns: Vec<Column>,
    /// Declared allowed lateness in microseconds (0 when not declared).
    pub lateness_us: i64,
}

/// A view's row transform: rows where `filter` is not true are dropped for the view's
/// features (and its ttl check); `lets` are derived columns in declaration order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeriveOp {
    pub view: String,
    pub source: NodeId,
    pub filter: Option<Expr>,
    pub lets: Vec<Let>,
}

/// Partitions a source's rows by an entity key taken from `key_columns`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyByOp {
    pub entity: String,
    pub source: NodeId,
    /// The source columns, in the entity's key order.
    pub key_columns: Vec<String>,
    /// The entity's key names (how spines and readers name the key), same order.
    pub key_names: Vec<String>,
    pub key_types: Vec<DataType>,
}

/// The windowed aggregates of one (source, key columns) group: one state per entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateOp {
    pub key_by: NodeId,
    pub features: Vec<AggFeature>,
    /// The ttl rules of the group's views with a ttl.
    pub ttls: Vec<TtlCheck>,
}

/// One feature of an aggregate node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggFeature {
    pub name: String,
    /// The derive node (view) whose filter and lets apply.
    pub derive: NodeId,
    pub agg: AggKind,
    /// `None` exactly for `count(*)`.
    pub arg: Option<Expr>,
    /// The feature's own `where` (the view filter is applied too).
    pub filter: Option<Expr>,
    /// `None` for a lifetime feature.
    pub window_us: Option<i64>,
    /// Index into `AggregateOp::ttls` when the view has a ttl.
    pub ttl: Option<usize>,
    pub ty: DataType,
    pub span: Span,
}

/// A view's ttl: its features are null at `t` when the entity has no row of the view
/// (after the view filter) in `(t - ttl_us, t]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TtlCheck {
    pub derive: NodeId,
    pub ttl_us: i64,
}

/// What readers see: the features in request order, and the services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputOp {
    pub features: Vec<OutputFeature>,
    pub services: Vec<ServiceOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputFeature {
    pub name: String,
    pub ty: DataType,
    pub nullable: bool,
    pub aggregate: NodeId,
    /// Index into that aggregate's `features`.
    pub index: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceOut {
    pub name: String,
    /// Indexes into `OutputOp::features`, in service order.
    pub features: Vec<usize>,
    pub span: Span,
}

/// A structural defect of a loaded graph.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphError {
    Version {
        found: u32,
        expected: u32,
    },
    /// `nodes[index].id` is not `index`.
    NodeId {
        index: usize,
    },
    /// A reference to a node that does not exist or has the wrong kind.
    BadRef {
        node: NodeId,
        expected: &'static str,
        target: NodeId,
    },
    /// No output node, or more than one.
    Output {
        count: usize,
    },
    Json(String),
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphError::Version { found, expected } => {
                write!(
                    f,
                    "stream graph version {found}, this runtime reads version {expected}"
                )
            }
            GraphError::NodeId { index } => write!(f, "node {index} has a different id"),
            GraphError::BadRef {
                node,
                expected,
                target,
            } => write!(
                f,
                "node {} refers to node {} which is not a {expected} node",
                node.0, target.0
            ),
            GraphError::Output { count } => {
                write!(
                    f,
                    "a stream graph has one output node, this one has {count}"
                )
            }
            GraphError::Json(m) => write!(f, "invalid stream graph JSON: {m}"),
        }
    }
}

impl std::error::Error for GraphError {}

impl StreamGraph {
    /// Reads a graph written by `to_json` and checks its structure.
    pub fn from_json(text: &str) -> Result<StreamGraph, GraphError> {
        let graph: StreamGraph =
            serde_json::from_str(text).map_err(|e| GraphError::Json(e.to_string()))?;
        graph.validate()?;
        Ok(graph)
    }

    /// Pretty JSON; `from_json(to_json(g)) == g`.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.0)
    }

    pub fn source(&self, id: NodeId) -> Option<&SourceOp> {
        match self.node(id).map(|n| &n.op) {
            Some(Op::Source(s)) => Some(s),
            _ => None,
        }
    }

    pub fn derive(&self, id: NodeId) -> Option<&DeriveOp> {
        match self.node(id).map(|n| &n.op) {
            Some(Op::Derive(d)) => Some(d),
            _ => None,
        }
    }

    pub fn key_by(&self, id: NodeId) -> Option<&KeyByOp> {
        match self.node(id).map(|n| &n.op) {
            Some(Op::KeyBy(k)) => Some(k),
            _ => None,
        }
    }

    pub fn aggregate(&self, id: NodeId) -> Option<&AggregateOp> {
        match self.node(id).map(|n| &n.op) {
            Some(Op::Aggregate(a)) => Some(a),
            _ => None,
        }
    }

    /// The output node (`validate` guarantees exactly one).
    pub fn output(&self) -> Option<&OutputOp> {
        self.nodes.iter().find_map(|n| match &n.op {
            Op::Output(o) => Some(o),
            _ => None,
        })
    }

    /// The aggregate nodes, in node order.
    pub fn aggregates(&self) -> impl Iterator<Item = (NodeId, &AggregateOp)> {
        self.nodes.iter().filter_map(|n| match &n.op {
            Op::Aggregate(a) => Some((n.id, a)),
            _ => None,
        })
    }

    /// The source nodes, in node order.
    pub fn sources(&self) -> impl Iterator<Item = (NodeId, &SourceOp)> {
        self.nodes.iter().filter_map(|n| match &n.op {
            Op::Source(s) => Some((n.id, s)),
            _ => None,
        })
    }

    /// Checks the version and every node reference.
    pub fn validate(&self) -> Result<(), GraphError> {
        if self.version != GRAPH_VERSION {
            return Err(GraphError::Version {
                found: self.version,
                expected: GRAPH_VERSION,
            });
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.id.0 != i {
                return Err(GraphError::NodeId { index: i });
            }
        }
        let check = |node: NodeId, target: NodeId, expected: &'static str, ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(GraphError::BadRef {
                    node,
                    expected,
                    target,
                })
            }
        };
        let mut outputs = 0;
        for n in &self.nodes {
            match &n.op {
                Op::Source(_) => {}
                Op::Derive(d) => check(n.id, d.source, "source", self.source(d.source).is_some())?,
                Op::KeyBy(k) => check(n.id, k.source, "source", self.source(k.source).is_some())?,
                Op::Aggregate(a) => {
                    check(n.id, a.key_by, "key_by", self.key_by(a.key_by).is_some())?;
                    let source = self.key_by(a.key_by).map(|k| k.source);
                    let derives = a.features.iter().map(|f| f.derive);
                    for d in derives.chain(a.ttls.iter().map(|t| t.derive)) {
                        let ok = self.derive(d).is_some_and(|d| Some(d.source) == source);
                        check(n.id, d, "derive (of the key_by's source)", ok)?;
                    }
                    for f in &a.features {
                        if let Some(t) = f.ttl {
                            if t >= a.ttls.len() {
                                return Err(GraphError::BadRef {
                                    node: n.id,
                                    expected: "ttl",
                                    target: n.id,
                                });
                            }
                        }
                    }
                }
                Op::Output(o) => {
                    outputs += 1;
                    for f in &o.features {
                        let ok = self
                            .aggregate(f.aggregate)
                            .is_some_and(|a| f.index < a.features.len());
                        check(n.id, f.aggregate, "aggregate", ok)?;
                    }
                    for s in &o.services {
                        if s.features.iter().any(|&i| i >= o.features.len()) {
                            return Err(GraphError::BadRef {
                                node: n.id,
                                expected: "output feature",
                                target: n.id,
                            });
                        }
                    }
                }
            }
        }
        for e in &self.edges {
            for id in [e.from, e.to] {
                check(id, id, "existing", self.node(id).is_some())?;
            }
        }
        if outputs != 1 {
            return Err(GraphError::Output { count: outputs });
        }
        Ok(())
    }
}
