//! `Names`: the names a client uses, resolved against the graph once at startup:
//! features as Feast spells them (`view:feature`) or by their project-wide name,
//! services, entity key columns, and the columns a push must carry per source.

use std::collections::HashMap;

use featc_runtime::ir::{ColumnPath, DataType};
use featc_runtime::plan::{GroupPlan, RequestField as RequestFieldPlan};
use featc_runtime::stream::graph::OutputFeature;
use featc_runtime::stream::StreamGraph;

/// One output feature of the graph.
#[derive(Debug, Clone)]
pub struct FeatureEntry {
    /// The project-wide name (what `featc training-set` names the column).
    pub name: String,
    pub view: String,
    /// The name inside its view (Feast's feature name).
    pub short: String,
    /// Indexes into `Names::entities`: the entity whose key a read needs (a derived
    /// feature: every entity of the features it reads).
    pub entities: Vec<usize>,
    pub ty: DataType,
    /// The request fields a read must give (a derived feature's), by field name.
    pub request: Vec<RequestFieldPlan>,
}

/// A feature's name inside its view (or service): a name written `view.feature` in
/// full keeps only its last part.
fn short_name(name: &str, owner: &str) -> String {
    name.strip_prefix(&format!("{owner}."))
        .unwrap_or(name)
        .to_string()
}

/// An entity and its key, in key order.
#[derive(Debug, Clone)]
pub struct EntityEntry {
    pub name: String,
    /// (key name, type): the names a read's `entities` object uses.
    pub keys: Vec<(String, DataType)>,
}

/// A source a push may name, with the columns a push must (or may) carry.
#[derive(Debug, Clone)]
pub struct SourceEntry {
    pub name: String,
    pub time_column: String,
    /// (name, type, nullable) of its flat columns, in declaration order.
    pub columns: Vec<(String, DataType, bool)>,
    /// Its struct and map columns: a push or a record carries each as one JSON
    /// object (or an Arrow struct or map), read only through `paths`.
    pub nested: Vec<String>,
    /// The columns the graph reads out of `nested` (`address.city`).
    pub paths: Vec<PathEntry>,
    /// The unit of its integer times (its `epoch` clause).
    pub epoch: Option<featc_runtime::ir::EpochUnit>,
}

/// A flat column read out of a source's struct or map column.
#[derive(Debug, Clone)]
pub struct PathEntry {
    /// Its flat name, the path as written (`ColumnPath::written`).
    pub name: String,
    pub path: ColumnPath,
    pub ty: DataType,
    /// False when no step can be null (a struct's non-null field of a non-null
    /// struct): a row without it is refused, as a null in a non-null column is.
    pub nullable: bool,
}

impl SourceEntry {
    /// Every column a push may carry: the time column, then the declared ones (the
    /// struct and map columns whole, never their paths).
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.time_column.as_str())
            .chain(self.columns.iter().map(|(n, _, _)| n.as_str()))
            .chain(self.nested.iter().map(String::as_str))
    }

    /// The first of `names` the source does not declare, with the closest declared
    /// name. Every push path refuses such a column (a typo would otherwise be
    /// dropped without a word).
    pub fn undeclared<'a>(
        &self,
        mut names: impl Iterator<Item = &'a str>,
    ) -> Option<(String, Option<String>)> {
        let bad = names.find(|n| !self.column_names().any(|c| c == *n))?;
        Some((bad.to_string(), closest(bad, self.column_names())))
    }
}

/// Every name of the graph a request can use.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Indexed like the runtime's output features.
    pub features: Vec<FeatureEntry>,
    pub entities: Vec<EntityEntry>,
    pub services: Vec<(String, Vec<usize>)>,
    pub sources: Vec<SourceEntry>,
    /// Every accepted spelling of a feature (`view:feature`, `view.feature`, the
    /// project-wide name) to its index.
    spellings: HashMap<String, usize>,
}

impl Names {
    pub fn new(graph: &StreamGraph) -> Names {
        let mut names = Names::default();
        let aggregates: Vec<_> = graph.aggregates().collect();
        if let Some(output) = graph.output() {
            for f in &output.features {
                let entry = match *f {
                    OutputFeature::Aggregate { aggregate, index } => {
                        let Some((_, op)) = aggregates.iter().find(|(id, _)| *id == aggregate)
                        else {
                            continue;
                        };
                        let Some(plan) = op.plan.features.get(index) else {
                            continue;
                        };
                        let entity = names.entity(&op.plan);
                        FeatureEntry {
                            name: plan.name.clone(),
                            view: plan.view.clone(),
                            short: short_name(&plan.name, &plan.view),
                            entities: vec![entity],
                            ty: plan.ty,
                            request: Vec::new(),
                        }
                    }
                    OutputFeature::Derived { derived } => {
                        let Some(d) = output.derived.get(derived) else {
                            continue;
                        };
                        let mut entities = Vec::new();
                        for r in &d.reads {
                            if let Some((_, op)) = aggregates.get(r.group) {
                                let e = names.entity(&op.plan);
                                if !entities.contains(&e) {
                                    entities.push(e);
                                }
                            }
                        }
                        FeatureEntry {
                            name: d.name.clone(),
                            view: d.owner.clone(),
                            short: short_name(&d.name, &d.owner),
                            entities,
                            ty: d.ty,
                            request: d.request.clone(),
                        }
                    }
                };
                names.features.push(entry);
            }
            names.services = output
                .services
                .iter()
                .map(|s| (s.name.clone(), s.features.clone()))
                .collect();
        }
        for (i, f) in names.features.iter().enumerate() {
            for spelling in [
                format!("{}:{}", f.view, f.short),
                format!("{}.{}", f.view, f.short),
                f.name.clone(),
            ] {
                names.spellings.entry(spelling).or_insert(i);
            }
        }
        names.sources = graph
            .sources()
            .map(|(_, op)| SourceEntry {
                name: op.name.clone(),
                time_column: op.time_column.clone(),
                columns: op
                    .columns
                    .iter()
                    .filter(|c| c.path.is_none())
                    .map(|c| (c.name.clone(), c.ty, c.nullable))
                    .collect(),
                nested: op.nested.clone(),
                paths: op
                    .columns
                    .iter()
                    .filter_map(|c| {
                        let path = c.path.clone()?;
                        Some(PathEntry {
                            name: c.name.clone(),
                            path,
                            ty: c.ty,
                            nullable: c.nullable,
                        })
                    })
                    .collect(),
                epoch: op.epoch,
            })
            .collect();
        names
    }

    /// The index of a group's entity, added on first use.
    fn entity(&mut self, plan: &GroupPlan) -> usize {
        match self.entities.iter().position(|e| e.name == plan.entity) {
            Some(e) => e,
            None => {
                self.entities.push(EntityEntry {
                    name: plan.entity.clone(),
                    keys: plan.keys.iter().map(|k| (k.name.clone(), k.ty)).collect(),
                });
                self.entities.len() - 1
            }
        }
    }

    /// The feature a client names, or the closest accepted spelling.
    pub fn feature(&self, name: &str) -> Result<usize, Option<String>> {
        self.spellings
            .get(name)
            .copied()
            .ok_or_else(|| closest(name, self.spellings.keys().map(String::as_str)))
    }

    /// The features of a service, or the closest service name.
    pub fn service(&self, name: &str) -> Result<&[usize], Option<String>> {
        self.services
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.as_slice())
            .ok_or_else(|| closest(name, self.services.iter().map(|(n, _)| n.as_str())))
    }

    /// A source by name, or the closest source name.
    pub fn source(&self, name: &str) -> Result<&SourceEntry, Option<String>> {
        self.sources
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| closest(name, self.sources.iter().map(|s| s.name.as_str())))
    }
}

/// Names compared for suggestions are at most this long (in characters): a longer
/// one gets no suggestion (a request's name can be megabytes long).
const MAX_COMPARED: usize = 64;

/// Units one suggestion may spend (a candidate looked at, or a cell of the
/// comparison: the product of the two lengths), about a millisecond; past that the
/// best so far is suggested. Bounded like the checker's (`featc::check::suggest`),
/// but per call: every request makes at most one.
const BUDGET: usize = 1_000_000;

/// The candidate most like `name`, if one is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let length = name.chars().count();
    if length > MAX_COMPARED {
        return None;
    }
    let mut left = BUDGET;
    candidates
        .take_while(|c| {
            let cost = 1 + length * c.len().min(MAX_COMPARED * 4);
            left = left.saturating_sub(cost);
            left > 0
        })
        .filter(|c| c.chars().count() <= MAX_COMPARED)
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_near_names_and_gives_up_on_long_ones_at_once() {
        let names = ["txn_count_7d", "amount_sum_1d"];
        assert_eq!(
            closest("txn_count_7", names.iter().copied()),
            Some("txn_count_7d".to_string())
        );
        let long = "t".repeat(1 << 20);
        let started = std::time::Instant::now();
        assert_eq!(closest(&long, names.iter().copied()), None);
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
    }

    #[test]
    fn spends_a_bounded_budget_on_many_candidates() {
        let many: Vec<String> = (0..1_000_000).map(|i| format!("feature_{i}")).collect();
        let started = std::time::Instant::now();
        let _ = closest("feature_x", many.iter().map(String::as_str));
        // Unbounded, a million comparisons take seconds in a debug build.
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
    }
}
