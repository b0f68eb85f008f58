//! `StreamGraph`: the serialized streaming plan of a project (plain serde data), one
//! node per operator, each with the span of the `.feat` text it came from.
//!
//! Shape (every reference points upstream):
//!
//! ```text
//! source ──> aggregate (one per group of the feature plan: a `plan::GroupPlan`)
//!              └──> output (the requested features, and the services they cover)
//! ```
//!
//! Invariants `featc::lower::stream::lower_stream` upholds and the executor relies on
//! (`StreamGraph::validate` re-checks them after loading JSON):
//! - `nodes[i].id == NodeId(i)`; every `NodeId` field names a node of the right kind;
//! - an aggregate's plan is valid (`GroupPlan::validate`) and reads the source it
//!   names: same source name and time column, key columns among its columns;
//! - there is exactly one output node; an aggregated output feature is
//!   `aggregates[aggregate].plan.features[index]`, a derived one `derived[derived]`
//!   of the output node, whose `reads` name features as (the aggregate node's rank
//!   among the aggregate nodes, its feature index).

use serde::{Deserialize, Serialize};

use crate::ir::DataType;
use crate::ir::{Column, SourceSpan};
use crate::plan::{DerivedPlan, FeaturePlan, FeatureRef, GroupPlan, PlanInvariantError};

/// The format version written into every graph; bumped on incompatible changes
/// (2: aggregate nodes carry a `GroupPlan`; derive and key_by nodes are gone; 3: a
/// feature names its view's `where` filter, `FeaturePlan::view_filter`; 4: derived
/// features, `OutputOp::derived`).
pub const GRAPH_VERSION: u32 = 4;

/// A node's position in `StreamGraph::nodes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub usize);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamGraph {
    pub version: u32,
    /// File names of the project, indexed by `SourceSpan::file`.
    pub files: Vec<String>,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
    pub span: SourceSpan,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Source(SourceOp),
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
    /// Its declared struct and map columns (`ir::Source::nested`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nested: Vec<String>,
    /// Declared allowed lateness in microseconds (0 when not declared).
    pub lateness_us: i64,
    /// The tightest freshness contract on the source (its own `freshness` and its
    /// views'), in microseconds; `None` when none is declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freshness_us: Option<i64>,
    /// The unit of its integer times (the source's `epoch` clause; see
    /// `row::time::epoch_micros`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<crate::ir::EpochUnit>,
}

/// The features of one group of the feature plan: one window state per entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateOp {
    /// The source node whose events the plan reads.
    pub source: NodeId,
    pub plan: GroupPlan,
}

/// What readers see: the features in request order, and the services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputOp {
    pub features: Vec<OutputFeature>,
    pub services: Vec<ServiceOut>,
    /// The derived features (`OutputFeature::Derived` indexes this list), evaluated
    /// at read time over the aggregated features they read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived: Vec<DerivedPlan>,
}

/// An output feature: an aggregate node's plan's feature `index`, or a derived
/// feature of the output node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OutputFeature {
    Aggregate { aggregate: NodeId, index: usize },
    Derived { derived: usize },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceOut {
    pub name: String,
    /// Indexes into `OutputOp::features`, in service order.
    pub features: Vec<usize>,
    pub span: SourceSpan,
}

/// A structural defect of a loaded graph.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphError {
    /// The graph was written by another featc version.
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
    /// An aggregate's plan breaks an invariant or does not fit its source.
    Plan {
        node: NodeId,
        error: PlanInvariantError,
    },
    Json(String),
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphError::Version { found, expected } => write!(
                f,
                "stream graph version {found}, this runtime reads version {expected}: \
                 regenerate the graph with this version of featc \
                 (`featc build PROJECT --emit stream-json > graph.json`)"
            ),
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
            GraphError::Plan { node, error } => write!(f, "node {}: {error}", node.0),
            GraphError::Json(m) => write!(f, "invalid stream graph JSON: {m}"),
        }
    }
}

impl std::error::Error for GraphError {}

impl StreamGraph {
    /// Reads a graph written by `to_json` and checks its structure. A graph of
    /// another version is refused by its version before its shape is read.
    pub fn from_json(text: &str) -> Result<StreamGraph, GraphError> {
        #[derive(Deserialize)]
        struct Versioned {
            version: u32,
        }
        let versioned: Versioned =
            serde_json::from_str(text).map_err(|e| GraphError::Json(e.to_string()))?;
        if versioned.version != GRAPH_VERSION {
            return Err(GraphError::Version {
                found: versioned.version,
                expected: GRAPH_VERSION,
            });
        }
        // Expressions nest as deep as a checked project allows: no fixed recursion
        // limit, and a stack that grows as deep as the JSON is.
        let mut json = serde_json::Deserializer::from_str(text);
        json.disable_recursion_limit();
        let graph = StreamGraph::deserialize(serde_stacker::Deserializer::new(&mut json))
            .map_err(|e| GraphError::Json(e.to_string()))?;
        json.end().map_err(|e| GraphError::Json(e.to_string()))?;
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

    /// Each aggregate node's features by name, in node and plan order: the layout of
    /// the state a snapshot of this graph holds. A server records it beside its
    /// checkpoints so that a project whose features were only reordered is planned
    /// in the same layout, and the checkpoint still loads (`lower::serving`).
    pub fn group_features(&self) -> Vec<Vec<String>> {
        self.aggregates()
            .map(|(_, a)| a.plan.feature_names().map(String::from).collect())
            .collect()
    }

    /// The aggregate nodes, in node order.
    pub fn aggregates(&self) -> impl Iterator<Item = (NodeId, &AggregateOp)> {
        self.nodes.iter().filter_map(|n| match &n.op {
            Op::Aggregate(a) => Some((n.id, a)),
            _ => None,
        })
    }

    /// The aggregated feature an output feature names (`None` for a derived one).
    pub fn output_feature(&self, f: OutputFeature) -> Option<&FeaturePlan> {
        match f {
            OutputFeature::Aggregate { aggregate, index } => {
                self.aggregate(aggregate)?.plan.features.get(index)
            }
            OutputFeature::Derived { .. } => None,
        }
    }

    /// The derived feature an output feature names (`None` for an aggregated one).
    pub fn output_derived(&self, f: OutputFeature) -> Option<&DerivedPlan> {
        match f {
            OutputFeature::Derived { derived } => self.output()?.derived.get(derived),
            OutputFeature::Aggregate { .. } => None,
        }
    }

    /// An output feature's name and type.
    pub fn output_column(&self, f: OutputFeature) -> Option<(&str, DataType)> {
        match f {
            OutputFeature::Aggregate { .. } => {
                self.output_feature(f).map(|p| (p.name.as_str(), p.ty))
            }
            OutputFeature::Derived { .. } => {
                self.output_derived(f).map(|d| (d.name.as_str(), d.ty))
            }
        }
    }

    /// The aggregated feature a derived feature's read names: (the rank of its
    /// aggregate node among the aggregate nodes, the feature's index).
    pub fn read_feature(&self, r: FeatureRef) -> Option<&FeaturePlan> {
        self.aggregates()
            .nth(r.group)?
            .1
            .plan
            .features
            .get(r.feature)
    }

    /// The nodes a node reads from, in id order.
    pub fn inputs(&self, id: NodeId) -> Vec<NodeId> {
        let mut out: Vec<NodeId> = match self.node(id).map(|n| &n.op) {
            Some(Op::Aggregate(a)) => vec![a.source],
            Some(Op::Output(o)) => {
                let ranks: Vec<NodeId> = self.aggregates().map(|(id, _)| id).collect();
                let read = o.derived.iter().flat_map(|d| &d.reads);
                o.features
                    .iter()
                    .filter_map(|f| match f {
                        OutputFeature::Aggregate { aggregate, .. } => Some(*aggregate),
                        OutputFeature::Derived { .. } => None,
                    })
                    .chain(read.filter_map(|r| ranks.get(r.group).copied()))
                    .collect()
            }
            _ => Vec::new(),
        };
        out.sort_unstable();
        out.dedup();
        out
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
        let bad_ref = |node: NodeId, expected: &'static str, target: NodeId| GraphError::BadRef {
            node,
            expected,
            target,
        };
        let mut outputs = 0;
        for n in &self.nodes {
            match &n.op {
                Op::Source(_) => {}
                Op::Aggregate(a) => {
                    let source = self
                        .source(a.source)
                        .ok_or(bad_ref(n.id, "source", a.source))?;
                    a.plan
                        .validate()
                        .map_err(|error| GraphError::Plan { node: n.id, error })?;
                    let members = a.plan.union.iter().map(|m| {
                        self.sources()
                            .find(|(_, op)| op.name == m.source)
                            .map(|(_, op)| op)
                            .ok_or_else(|| format!("no source node `{}`", m.source))
                    });
                    let fitted = fits(&a.plan, source).and_then(|()| {
                        members
                            .into_iter()
                            .try_for_each(|op| fits_union(&a.plan, op?))
                    });
                    let fitted = fitted.and_then(|()| self.fits_lookups(&a.plan));
                    fitted.map_err(|message| GraphError::Plan {
                        node: n.id,
                        error: PlanInvariantError {
                            group: a.plan.describe(),
                            message,
                        },
                    })?;
                }
                Op::Output(o) => {
                    outputs += 1;
                    for f in &o.features {
                        if self.output_column(*f).is_none() {
                            let target = match f {
                                OutputFeature::Aggregate { aggregate, .. } => *aggregate,
                                OutputFeature::Derived { .. } => n.id,
                            };
                            return Err(bad_ref(n.id, "aggregate or derived feature", target));
                        }
                    }
                    for d in &o.derived {
                        let name = |r| self.read_feature(r).map(|f| f.name.as_str());
                        if let Some(message) = d.problem(&name) {
                            return Err(GraphError::Plan {
                                node: n.id,
                                error: PlanInvariantError {
                                    group: "output".into(),
                                    message: format!("derived feature `{}`: {message}", d.name),
                                },
                            });
                        }
                    }
                    for s in &o.services {
                        if s.features.iter().any(|&i| i >= o.features.len()) {
                            return Err(bad_ref(n.id, "output feature", n.id));
                        }
                    }
                }
            }
        }
        if outputs != 1 {
            return Err(GraphError::Output { count: outputs });
        }
        Ok(())
    }
}

impl StreamGraph {
    /// Each as-of lookup of `plan` (and of the plans it looks up, down the chain)
    /// reads one aggregated feature, by as many key columns as its entity has, from
    /// groups whose sources are source nodes of the graph (the runtime computes them
    /// as groups of its own; see `stream::lookup`).
    fn fits_lookups(&self, plan: &GroupPlan) -> Result<(), String> {
        for l in &plan.lookups {
            let target = match l.plan.outputs.as_slice() {
                [crate::plan::Output::Aggregate(r)] => l.plan.groups.get(r.group),
                _ => None,
            };
            let Some(target) = target else {
                return Err(format!(
                    "lookup `{}` reads no one aggregated feature",
                    l.column
                ));
            };
            if target.keys.len() != l.keys.len() {
                return Err(format!(
                    "lookup `{}` gives {} key columns for an entity of {}",
                    l.column,
                    l.keys.len(),
                    target.keys.len()
                ));
            }
            for g in &l.plan.groups {
                let node = |name: &str| {
                    self.sources()
                        .find(|(_, op)| op.name == name)
                        .map(|(_, op)| op)
                        .ok_or_else(|| format!("lookup `{}`: no source node `{name}`", l.column))
                };
                fits(g, node(&g.source)?)?;
                for m in &g.union {
                    fits_union(g, node(&m.source)?)?;
                }
                self.fits_lookups(g)?;
            }
        }
        Ok(())
    }
}

/// Whether a plan reads `source`: its name, time column and key columns (by type).
fn fits(plan: &GroupPlan, source: &SourceOp) -> Result<(), String> {
    if !plan.union.is_empty() {
        return match plan.source == source.name {
            true => Ok(()),
            false => Err(format!(
                "the plan reads `{}` first, the node `{}`",
                plan.source, source.name
            )),
        };
    }
    if plan.source != source.name || plan.time_column != source.time_column {
        return Err(format!(
            "the plan reads source `{}` (time `{}`), the node `{}` (time `{}`)",
            plan.source, plan.time_column, source.name, source.time_column
        ));
    }
    for k in &plan.keys {
        if !source
            .columns
            .iter()
            .any(|c| c.name == k.column && c.ty == k.ty)
        {
            return Err(format!(
                "key column `{}: {}` is not a column of `{}`",
                k.column,
                k.ty.name(),
                source.name
            ));
        }
    }
    Ok(())
}

/// A member of a group's union fits its source node: the same time column, and the
/// columns it names (the key columns among them) are the node's, keys of their type.
fn fits_union(plan: &GroupPlan, source: &SourceOp) -> Result<(), String> {
    let Some(m) = plan.union.iter().find(|m| m.source == source.name) else {
        return Err(format!("`{}` is not in the union", source.name));
    };
    if m.time_column != source.time_column {
        return Err(format!(
            "the union reads `{}` at time `{}`, the node has time `{}`",
            m.source, m.time_column, source.time_column
        ));
    }
    for c in &m.columns {
        let column = source.columns.iter().find(|d| d.name == *c);
        let key = plan.keys.iter().find(|k| k.column == *c);
        let fits = match (column, key) {
            (Some(d), Some(k)) => d.ty == k.ty,
            (Some(_), None) => true,
            (None, _) => *c == source.time_column && key.is_none(),
        };
        if !fits {
            return Err(format!("column `{c}` does not fit `{}`", source.name));
        }
    }
    Ok(())
}
