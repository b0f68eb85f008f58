//! The serving graph of each entity, for `featc serve --kafka-group`: the features
//! whose values depend on one entity's views run on that entity's own graph, so that
//! a partition of the entity's keys is a unit of state that can move between
//! instances (docs/scale-out.md). Each entity's graph is `serving_graph`'s, restricted
//! to the entity's features; each service lists its features of that entity, so a
//! service spanning entities has its share on each entity's graph (what its hash per
//! entity holds in the Redis layout, and what a read merges back).

use std::collections::HashMap;
use std::fmt;

use featc_runtime::ir::{FeatureId, Project};
use featc_runtime::plan::Plan;
use featc_runtime::stream::graph::{Op, ServiceOut, StreamGraph};

use super::groups::{plan_groups_in_layout, GroupingError};
use super::stream::{lookup_refused, lower_stream_plan};

/// One entity's share of the project.
#[derive(Debug, Clone)]
pub struct EntityGraph {
    pub entity: String,
    /// Per source the entity's views read (each source of a view over several): the
    /// source's columns holding the entity's keys, in the entity's key order (what
    /// its records are routed by).
    pub routes: Vec<(String, Vec<String>)>,
    pub plan: Plan,
    pub graph: StreamGraph,
}

/// Why a project cannot be split by entity.
#[derive(Debug, Clone, PartialEq)]
pub enum SplitError {
    /// A service's derived feature reads features of several entities: no one
    /// entity's owner holds all it reads.
    SpansEntities {
        feature: String,
        entities: Vec<String>,
    },
    /// Two views of one entity read its keys from different columns of one source:
    /// a record would belong to two partitions of the entity.
    TwoKeyings {
        entity: String,
        source: String,
        columns: [Vec<String>; 2],
    },
    Grouping(GroupingError),
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::SpansEntities { feature, entities } => write!(
                f,
                "`{feature}` reads features of the entities {}: in group mode each \
                 entity's features are computed by the owner of its key, so a derived \
                 feature may read one entity's features only",
                entities.join(", ")
            ),
            SplitError::TwoKeyings {
                entity,
                source,
                columns,
            } => write!(
                f,
                "the views of entity `{entity}` over source `{source}` take its keys from \
                 different columns ({} and {}): in group mode a record of `{source}` must \
                 belong to one partition of `{entity}`",
                columns[0].join(", "),
                columns[1].join(", ")
            ),
            SplitError::Grouping(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SplitError {}

/// The entity whose views `id`'s value depends on (`None`: on request fields only),
/// or the entities it spans.
fn entity_of(project: &Project, id: FeatureId) -> Result<Option<usize>, Vec<usize>> {
    let mut entities: Vec<usize> = project
        .aggregations_of(&[id])
        .into_iter()
        .filter_map(|a| a.view())
        .filter_map(|v| project.views.get(v).map(|view| view.entity.0))
        .collect();
    entities.sort_unstable();
    entities.dedup();
    match entities.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(entities),
    }
}

/// Every entity that has a view, with its features and graph (see the module docs).
/// A feature that reads request fields only is computed on every entity's graph.
/// A feature reading an as-of lookup is refused (`GroupingError::LookupOnline`): a
/// partition holds its own entity's events, and a lookup reads another entity's.
pub fn entity_graphs(
    project: &Project,
    layouts: &dyn Fn(&str) -> Vec<Vec<String>>,
) -> Result<Vec<EntityGraph>, SplitError> {
    let all = project.all_features();
    let mut owners = Vec::with_capacity(all.len());
    for id in &all {
        match entity_of(project, *id) {
            Ok(owner) => owners.push(owner),
            Err(entities) => {
                return Err(SplitError::SpansEntities {
                    feature: feature_name(project, *id),
                    entities: entities
                        .iter()
                        .filter_map(|e| project.entities.get(*e).map(|e| e.name.clone()))
                        .collect(),
                })
            }
        }
    }
    let mut out = Vec::new();
    for (e, entity) in project.entities.iter().enumerate() {
        if !project.views.iter().any(|v| v.entity.0 == e) {
            continue;
        }
        let features: Vec<FeatureId> = all
            .iter()
            .zip(&owners)
            .filter(|(_, owner)| owner.is_none_or(|o| o == e))
            .map(|(id, _)| *id)
            .collect();
        let plan = plan_groups_in_layout(project, &features, &layouts(&entity.name))
            .map_err(SplitError::Grouping)?;
        // A partition holds its entity's events only; a lookup reads another's.
        if let Some(refused) = (plan.groups.iter()).find_map(|g| lookup_refused(project, g)) {
            return Err(SplitError::Grouping(refused));
        }
        let mut graph =
            lower_stream_plan(project, plan.clone(), &features).map_err(SplitError::Grouping)?;
        share_services(project, &features, &mut graph);
        out.push(EntityGraph {
            entity: entity.name.clone(),
            routes: routes(project, e)?,
            plan,
            graph,
        });
    }
    Ok(out)
}

/// Lists on `graph`'s output each service's features among `features` (in service
/// order), where `lower_stream_plan` lists only services it covers whole.
fn share_services(project: &Project, features: &[FeatureId], graph: &mut StreamGraph) {
    let position: HashMap<FeatureId, usize> = features
        .iter()
        .enumerate()
        .rev()
        .map(|(i, id)| (*id, i))
        .collect();
    let services: Vec<ServiceOut> = project
        .services
        .iter()
        .filter_map(|s| {
            let covered: Vec<usize> = s
                .features
                .iter()
                .filter_map(|id| position.get(id).copied())
                .collect();
            (!covered.is_empty()).then(|| ServiceOut {
                name: s.name.clone(),
                features: covered,
                span: s.span,
            })
        })
        .collect();
    for node in &mut graph.nodes {
        if let Op::Output(output) = &mut node.op {
            output.services = services.clone();
        }
    }
}

/// The source columns each source's views of entity `e` take its keys from. A view
/// over several sources routes each of them by the view's key columns (columns of
/// every member, checked), so the events of a key, whatever their source, reach the
/// one partition that holds the key's union state.
fn routes(project: &Project, e: usize) -> Result<Vec<(String, Vec<String>)>, SplitError> {
    let mut routes: Vec<(String, Vec<String>)> = Vec::new();
    let views = project.views.iter().filter(|v| v.entity.0 == e);
    for (view, source) in views.flat_map(|v| v.sources().map(move |s| (v, s))) {
        let Some(source) = project.sources.get(source.0) else {
            continue;
        };
        match routes.iter().find(|(s, _)| *s == source.name) {
            Some((_, columns)) if *columns != view.key_columns => {
                return Err(SplitError::TwoKeyings {
                    entity: project.entities[e].name.clone(),
                    source: source.name.clone(),
                    columns: [columns.clone(), view.key_columns.clone()],
                })
            }
            Some(_) => {}
            None => routes.push((source.name.clone(), view.key_columns.clone())),
        }
    }
    Ok(routes)
}

/// A feature's name as reads give it: `view:feature`, or a service's own feature's.
fn feature_name(project: &Project, id: FeatureId) -> String {
    match id {
        FeatureId::View { view, .. } => format!(
            "{}:{}",
            project.views.get(view).map_or("", |v| v.name.as_str()),
            project.feature(id).name
        ),
        FeatureId::Service { .. } => project.feature(id).name.clone(),
    }
}
