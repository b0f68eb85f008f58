//! Lowering of a checked project to a `StreamGraph` (the streaming plan): one source
//! node per source the features read, one aggregate node per group of the feature
//! plan (`groups::plan_groups`), and one output node listing the requested features
//! in request order plus every service they fully cover. A group's as-of lookups
//! travel in its plan; their sources are source nodes too (the runtime computes each
//! lookup's plan as groups of its own).

use std::collections::HashMap;

use featc_runtime::ir::{self, FeatureId, Project, SourceSpan};
use featc_runtime::stream::graph::{
    AggregateOp, Node, NodeId, Op, OutputFeature, OutputOp, ServiceOut, SourceOp, StreamGraph,
    GRAPH_VERSION,
};

use featc_runtime::plan::{GroupPlan, Output, Plan};

use super::groups::{plan_groups, GroupingError};

/// Builds the stream graph computing `features` (in that order; duplicates allowed).
pub fn lower_stream(
    project: &Project,
    features: &[FeatureId],
) -> Result<StreamGraph, GroupingError> {
    lower_stream_plan(project, plan_groups(project, features)?, features)
}

/// The plan and stream graph `featc serve` (and the Python package's online store)
/// runs for `project`: every feature, in declaration order, the aggregations placed
/// in `layout` (the state layout a state directory's checkpoint records,
/// `Header::layout`; empty for none), so that features that were only reordered
/// since the checkpoint keep its layout and it loads.
pub fn serving_graph(
    project: &Project,
    layout: &[Vec<String>],
) -> Result<(Plan, StreamGraph), GroupingError> {
    let features = project.all_features();
    let plan = super::groups::plan_groups_in_layout(project, &features, layout)?;
    let graph = lower_stream_plan(project, plan.clone(), &features)?;
    Ok((plan, graph))
}

/// `lower_stream` for the plan `plan_groups` (or `plan_groups_in_layout`) made of the
/// same `features`.
pub fn lower_stream_plan(
    project: &Project,
    plan: Plan,
    features: &[FeatureId],
) -> Result<StreamGraph, GroupingError> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut push = |span: SourceSpan, op: Op| {
        let id = NodeId(nodes.len());
        nodes.push(Node { id, span, op });
        id
    };

    // Sources in declaration order, only those the groups (and their lookups) read.
    let mut source_nodes: HashMap<&str, NodeId> = HashMap::new();
    let read: std::collections::HashSet<String> =
        plan.columns_read().into_iter().map(|(s, _)| s).collect();
    for src in &project.sources {
        if read.contains(src.name.as_str()) {
            let id = push(
                src.span,
                Op::Source(SourceOp {
                    name: src.name.clone(),
                    time_column: src.time_column.clone(),
                    columns: src.columns.clone(),
                    nested: src.nested.iter().map(|n| n.name.clone()).collect(),
                    lateness_us: src.lateness_us,
                    freshness_us: project
                        .views
                        .iter()
                        .filter(|v| {
                            v.sources().any(|s| {
                                project.sources.get(s.0).map(|s| &s.name) == Some(&src.name)
                            })
                        })
                        .filter_map(|v| v.freshness_us)
                        .chain(src.freshness_us)
                        .min(),
                    epoch: src.epoch,
                }),
            );
            source_nodes.insert(&src.name, id);
        }
    }
    let mut aggregate_nodes = Vec::with_capacity(plan.groups.len());
    for group in plan.groups {
        let Some(&source) = source_nodes.get(group.source.as_str()) else {
            let view = group.features.first().map(|f| f.view.clone());
            return Err(GroupingError::UnknownReference {
                view: view.unwrap_or_default(),
            });
        };
        aggregate_nodes.push(push(
            group.span,
            Op::Aggregate(AggregateOp {
                source,
                plan: group,
            }),
        ));
    }

    let out_features: Vec<OutputFeature> = plan
        .outputs
        .iter()
        .map(|o| match *o {
            Output::Aggregate(r) => OutputFeature::Aggregate {
                aggregate: aggregate_nodes[r.group],
                index: r.feature,
            },
            Output::Derived(d) => OutputFeature::Derived { derived: d },
        })
        .collect();
    let mut first_output: HashMap<FeatureId, usize> = HashMap::new();
    for (i, id) in features.iter().enumerate() {
        first_output.entry(*id).or_insert(i);
    }
    let services = project
        .services
        .iter()
        .filter_map(|s| {
            let covered: Option<Vec<usize>> = s
                .features
                .iter()
                .map(|id| first_output.get(id).copied())
                .collect();
            covered.map(|features| ServiceOut {
                name: s.name.clone(),
                features,
                span: s.span,
            })
        })
        .collect();
    let span = project.services.first().map(|s| s.span).unwrap_or_default();
    push(
        span,
        Op::Output(OutputOp {
            features: out_features,
            services,
            derived: plan.derived,
        }),
    );
    Ok(StreamGraph {
        version: GRAPH_VERSION,
        files: project.files.clone(),
        nodes,
    })
}

/// The refusal of group `g` when it reads an as-of lookup, where a path cannot
/// compute one (a group mode pass sees one entity's events only): its first lookup,
/// named with the view (of the group) that declares it.
pub(crate) fn lookup_refused(project: &Project, g: &GroupPlan) -> Option<GroupingError> {
    let lookup = g.lookups.first()?;
    let declares = |v: &&ir::View| v.lookups.iter().any(|l| l.column == lookup.column);
    let view = g
        .features
        .iter()
        .filter_map(|f| project.views.iter().find(|v| v.name == f.view))
        .find(declares)
        .or_else(|| project.views.iter().find(declares))
        .map_or_else(
            || {
                g.features
                    .first()
                    .map(|f| f.view.clone())
                    .unwrap_or_default()
            },
            |v| v.name.clone(),
        );
    Some(GroupingError::LookupOnline {
        view,
        lookup: lookup.column.clone(),
    })
}
