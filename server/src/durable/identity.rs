//! What a state directory was built from: one canonical description per feature (its
//! source's schema and lateness, and for a view over several sources each member's
//! too, its entity key, its aggregation, window, ttl, input
//! expression and filters; no spans, so comments and formatting do not count), kept
//! in `identity.json`. A server refuses a state directory whose features differ from
//! its project's, and says which.

use std::collections::BTreeMap;

use featc_runtime::plan::GroupPlan;
use featc_runtime::stream::graph::{NodeId, SourceOp};
use featc_runtime::stream::StreamGraph;
use serde_json::Value as Json;

use super::DurableError;

/// Feature name to its canonical description.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub features: BTreeMap<String, String>,
}

/// How two identities differ (each list sorted).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Difference {
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl Difference {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (what, names) in [
            ("changed", &self.changed),
            ("added", &self.added),
            ("removed", &self.removed),
        ] {
            if !names.is_empty() {
                parts.push(format!("{what}: {}", names.join(", ")));
            }
        }
        f.write_str(&parts.join("; "))
    }
}

/// The members of `plan`'s union, each with its source node's description.
fn union(plan: &GroupPlan, sources: &[(NodeId, &SourceOp)]) -> Result<Json, serde_json::Error> {
    let members = plan
        .union
        .iter()
        .map(|m| {
            let source = sources.iter().find(|(_, s)| s.name == m.source);
            Ok(serde_json::json!({
                "member": serde_json::to_value(m)?,
                "source": source.map(|(_, s)| serde_json::to_value(s)).transpose()?,
            }))
        })
        .collect::<Result<Vec<Json>, serde_json::Error>>()?;
    Ok(Json::Array(members))
}

/// The JSON without `span` and `files` members, at any depth.
fn without_spans(value: Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.into_iter()
                .filter(|(k, _)| k != "span" && k != "files")
                .map(|(k, v)| (k, without_spans(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.into_iter().map(without_spans).collect()),
        other => other,
    }
}

impl Identity {
    /// The identity of `graph`'s features (describing them as JSON cannot fail for
    /// the plain data a graph is; if it did, it is a storage failure).
    pub fn of(graph: &StreamGraph) -> Result<Identity, DurableError> {
        let describe = |e: serde_json::Error| DurableError::Storage(e.to_string());
        let mut features = BTreeMap::new();
        let sources: Vec<_> = graph.sources().collect();
        for (_, op) in graph.aggregates() {
            let source = sources
                .iter()
                .find(|(id, _)| *id == op.source)
                .map(|(_, s)| serde_json::to_value(s))
                .transpose()
                .map_err(describe)?;
            let plan = &op.plan;
            // A group over several sources: each member (in `from` order) with its
            // source, so that adding, removing or changing one changes the feature;
            // absent for one source, whose identity is as it was.
            let members = match plan.union.is_empty() {
                true => None,
                false => Some(union(plan, &sources).map_err(describe)?),
            };
            for f in &plan.features {
                let input = f.input.and_then(|i| plan.inputs.get(i));
                let predicates = |filter: Option<usize>| -> Vec<_> {
                    filter
                        .and_then(|i| plan.filters.get(i))
                        .into_iter()
                        .flatten()
                        .filter_map(|p| plan.predicates.get(*p))
                        .collect()
                };
                let mut description = serde_json::json!({
                    "source": source,
                    "entity": plan.entity,
                    "keys": plan.keys,
                    "agg": f.agg,
                    "window_us": f.window_us,
                    "ttl_us": f.ttl.map(|t| t.ttl_us),
                    "ttl_filter": predicates(f.ttl.and_then(|t| t.filter)),
                    "type": f.ty,
                    "input": input,
                    "filter": predicates(f.filter),
                });
                // Recorded only when set, so that the identity of a state built before
                // window options existed is unchanged.
                if f.shift_us != 0 {
                    description["shift_us"] = serde_json::json!(f.shift_us);
                }
                if let Some(n) = f.events {
                    description["events"] = serde_json::json!(n);
                }
                if let Some(members) = &members {
                    description["union"] = members.clone();
                }
                let text = serde_json::to_string(&without_spans(description)).map_err(describe)?;
                features.insert(f.name.clone(), text);
            }
        }
        Ok(Identity { features })
    }

    /// What changed from `self` (the state directory's) to `now` (the project's).
    pub fn difference(&self, now: &Identity) -> Difference {
        let mut d = Difference::default();
        for (name, text) in &now.features {
            match self.features.get(name) {
                None => d.added.push(name.clone()),
                Some(old) if old != text => d.changed.push(name.clone()),
                Some(_) => {}
            }
        }
        d.removed = self
            .features
            .keys()
            .filter(|n| !now.features.contains_key(*n))
            .cloned()
            .collect();
        d
    }
}
