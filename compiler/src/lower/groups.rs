//! `plan_groups`: the one pass that turns requested features of a checked project into
//! the feature plan (`featc_runtime::plan::Plan`) every backend consumes. Here and
//! only here features are grouped by (source, entity key columns), lets are inlined,
//! input and filter expressions are deduplicated, and the ttl rule of each feature is
//! decided.

use std::collections::HashMap;
use std::fmt;

use featc_runtime::ir::{self, Expr, ExprKind, FeatureId, Let, Project, View};
use featc_runtime::plan::{
    DerivedPlan, DistinctExprs, FeaturePlan, FeatureRef, GroupPlan, KeyColumn, LookupPlan, Output,
    Plan, RequestField, TtlRule, UnionMember, UNION_TIME_COLUMN,
};

/// How deep inlining may recurse: `check` bounds an expanded expression's depth at
/// `check::expansion::MAX_DEPTH`, and each let adds one step; deeper means a cycle
/// slipped past `check`.
const MAX_LET_DEPTH: usize = 2 * crate::check::expansion::MAX_DEPTH;

/// How deep derived features may read derived features: `check` refuses cycles, so
/// this only stops a hand-made project.
const MAX_DERIVED_DEPTH: usize = 1024;

/// How deep lookups may look up features computed from lookups: `check` refuses
/// cycles, so this only stops a hand-made project.
const MAX_LOOKUP_DEPTH: usize = 256;

/// Why features could not be planned (each an internal error: a checked project
/// and its own feature ids never give one).
#[derive(Debug, Clone, PartialEq)]
pub enum GroupingError {
    /// A feature id that is not in the project.
    UnknownFeature(FeatureId),
    /// A view that names a source or entity that is not in the project.
    UnknownReference { view: String },
    /// Lets nest deeper than `MAX_LET_DEPTH` (a cycle `check` should have refused).
    LetsTooDeep { view: String, span: ir::SourceSpan },
    /// Derived features read each other deeper than `MAX_DERIVED_DEPTH` (a cycle
    /// `check` should have refused).
    DerivedTooDeep { feature: String },
    /// Lookups look up lookups deeper than `MAX_LOOKUP_DEPTH` (a cycle `check`
    /// should have refused).
    LookupsTooDeep { view: String },
    /// A group reads an as-of lookup on a path that sees one entity's events only
    /// (group mode, featc.spark's passes), which cannot compute it.
    LookupOnline { view: String, lookup: String },
}

impl fmt::Display for GroupingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupingError::UnknownFeature(id) => {
                write!(f, "internal error: no feature {id:?} in the project")
            }
            GroupingError::DerivedTooDeep { feature } => write!(
                f,
                "derived feature `{feature}`: derived features nest too deeply (a cycle?)"
            ),
            GroupingError::UnknownReference { view } => {
                write!(
                    f,
                    "internal error: view `{view}` names a missing source or entity"
                )
            }
            GroupingError::LetsTooDeep { view, .. } => {
                write!(f, "view `{view}`: lets nest too deeply (a cycle?)")
            }
            GroupingError::LookupsTooDeep { view } => {
                write!(f, "view `{view}`: lookups nest too deeply (a cycle?)")
            }
            GroupingError::LookupOnline { view, lookup } => write!(
                f,
                "view `{view}` looks up `{lookup}`: a pass of featc.spark (or any group \
                 mode run) sees one entity's events only, and a lookup reads another \
                 entity's; compute it with `featc training-set` or a stream runtime"
            ),
        }
    }
}

impl std::error::Error for GroupingError {}

/// Plans `features` (in request order; a feature requested twice is computed once).
/// Groups come in order of their first needed aggregation (a derived feature needs
/// the aggregations it reads, transitively), features within a group in that order.
/// A derived feature's expression is planned with the derived features it reads
/// inlined, so it reads aggregations and request fields only. Linear in the number
/// of features and the size of their expressions.
pub fn plan_groups(project: &Project, features: &[FeatureId]) -> Result<Plan, GroupingError> {
    plan_placing(project, features, &[], 0)
}

/// `plan_groups` of `features` (outputs in their order) with their aggregations
/// placed first in the order `layout` names them (each group's features, group by
/// group: `StreamGraph::group_features` of an earlier graph), then as `plan_groups`
/// places the rest. Names the layout has and `features` do not need are passed over.
/// Planned in the layout of a graph of the same features declared in another order,
/// the groups come out exactly as that graph's, so its snapshot still loads.
pub fn plan_groups_in_layout(
    project: &Project,
    features: &[FeatureId],
    layout: &[Vec<String>],
) -> Result<Plan, GroupingError> {
    let needed: std::collections::HashSet<FeatureId> =
        project.aggregations_of(features).into_iter().collect();
    let by_name: HashMap<&str, FeatureId> = needed
        .iter()
        .map(|&id| (project.feature(id).name.as_str(), id))
        .collect();
    let first: Vec<FeatureId> = layout
        .iter()
        .flatten()
        .filter_map(|name| by_name.get(name.as_str()).copied())
        .collect();
    plan_placing(project, features, &first, 0)
}

/// `plan_groups`, the aggregations `first` placed before any other.
fn plan_placing(
    project: &Project,
    features: &[FeatureId],
    first: &[FeatureId],
    depth: usize,
) -> Result<Plan, GroupingError> {
    let mut planner = Planner {
        project,
        groups: Vec::new(),
        group_of: HashMap::new(),
        placed: HashMap::new(),
        by_name: project
            .all_features()
            .into_iter()
            .map(|id| (project.feature(id).name.as_str(), id))
            .collect(),
    };
    for &id in first {
        planner.place(id)?;
    }
    let mut outputs = Vec::with_capacity(features.len());
    let mut derived: Vec<DerivedPlan> = Vec::new();
    let mut derived_at: HashMap<FeatureId, usize> = HashMap::new();
    for &id in features {
        let feature = project
            .get_feature(id)
            .ok_or(GroupingError::UnknownFeature(id))?;
        if feature.derived().is_none() {
            outputs.push(Output::Aggregate(planner.place(id)?));
            continue;
        }
        if let Some(&d) = derived_at.get(&id) {
            outputs.push(Output::Derived(d));
            continue;
        }
        for aggregation in project.aggregations_of(&[id]) {
            planner.place(aggregation)?;
        }
        derived.push(planner.derived(id)?);
        derived_at.insert(id, derived.len() - 1);
        outputs.push(Output::Derived(derived.len() - 1));
    }
    Ok(Plan {
        groups: planner
            .groups
            .into_iter()
            .map(|g| g.finish(project, depth))
            .collect::<Result<_, _>>()?,
        outputs,
        derived,
    })
}

/// `plan_groups`' state: the groups so far and where each aggregation went.
struct Planner<'p> {
    project: &'p Project,
    groups: Vec<GroupBuilder>,
    group_of: HashMap<(Vec<usize>, usize, &'p [String]), usize>,
    placed: HashMap<FeatureId, FeatureRef>,
    by_name: HashMap<&'p str, FeatureId>,
}

impl<'p> Planner<'p> {
    /// The place of aggregation `id`, planning it on first use.
    fn place(&mut self, id: FeatureId) -> Result<FeatureRef, GroupingError> {
        if let Some(r) = self.placed.get(&id) {
            return Ok(*r);
        }
        let project = self.project;
        let (view, feature) = match id {
            FeatureId::View { view, feature } => {
                let v = project
                    .views
                    .get(view)
                    .ok_or(GroupingError::UnknownFeature(id))?;
                (
                    v,
                    v.features
                        .get(feature)
                        .ok_or(GroupingError::UnknownFeature(id))?,
                )
            }
            FeatureId::Service { .. } => return Err(GroupingError::UnknownFeature(id)),
        };
        let aggregate = feature
            .aggregate()
            .ok_or(GroupingError::UnknownFeature(id))?;
        let sources = view.sources().map(|s| s.0).collect();
        let identity = (sources, view.entity.0, view.key_columns.as_slice());
        let group = match self.group_of.get(&identity) {
            Some(&g) => g,
            None => {
                let (plan, members) = new_group(project, view)?;
                self.groups.push(GroupBuilder::new(plan, members));
                self.group_of.insert(identity, self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        let planned = self.groups[group].feature(view, feature, aggregate)?;
        self.groups[group].plan.features.push(planned);
        let r = FeatureRef {
            group,
            feature: self.groups[group].plan.features.len() - 1,
        };
        self.placed.insert(id, r);
        Ok(r)
    }

    /// The plan of derived feature `id`, whose aggregations are placed already.
    fn derived(&self, id: FeatureId) -> Result<DerivedPlan, GroupingError> {
        let project = self.project;
        let feature = project.feature(id);
        let expr = self.inlined(id, 0)?;
        let mut columns = Vec::new();
        expr.columns_into(&mut columns);
        let (mut reads, mut request) = (Vec::new(), Vec::new());
        for column in &columns {
            if let Some(other) = self.by_name.get(column.as_str()) {
                let r = self
                    .placed
                    .get(other)
                    .ok_or(GroupingError::UnknownFeature(*other))?;
                reads.push(*r);
                continue;
            }
            let field = column
                .split_once('.')
                .and_then(|(r, f)| {
                    let request = project.requests.iter().find(|q| q.name == r)?;
                    let field = request.fields.iter().find(|c| c.name == f)?;
                    Some(RequestField {
                        request: request.name.clone(),
                        field: field.name.clone(),
                        ty: field.ty,
                        nullable: field.nullable,
                    })
                })
                .ok_or_else(|| GroupingError::UnknownReference {
                    view: column.clone(),
                })?;
            request.push(field);
        }
        let owner = match id {
            FeatureId::View { view, .. } => &project.views[view].name,
            FeatureId::Service { service, .. } => &project.services[service].name,
        };
        Ok(DerivedPlan {
            name: feature.name.clone(),
            owner: owner.clone(),
            ty: expr.ty,
            nullable: expr.nullable,
            expr,
            reads,
            request,
            span: feature.span,
        })
    }

    /// Derived feature `id`'s expression with the derived features it reads
    /// inlined, transitively.
    fn inlined(&self, id: FeatureId, depth: usize) -> Result<Expr, GroupingError> {
        let feature = self.project.feature(id);
        let derived = feature.derived().ok_or(GroupingError::UnknownFeature(id))?;
        if depth > MAX_DERIVED_DEPTH {
            return Err(GroupingError::DerivedTooDeep {
                feature: feature.name.clone(),
            });
        }
        rewrite_columns(&derived.expr, &|name| match self.by_name.get(name) {
            Some(&other) if self.project.feature(other).derived().is_some() => {
                self.inlined(other, depth + 1).map(Some)
            }
            _ => Ok(None),
        })
    }
}

/// A group under construction, with the indexes that keep its slots distinct.
struct GroupBuilder {
    plan: GroupPlan,
    /// Over several sources, each source's columns (its time column first); the
    /// group's `union` is made of them once the columns the group reads are known.
    members: Vec<(String, Vec<String>)>,
    /// The lookups of the group's views (each once, by column) and the first view
    /// that has it, for messages.
    lookups: Vec<(ir::Lookup, String)>,
    inputs: DistinctExprs,
    predicates: DistinctExprs,
    filters: HashMap<Vec<usize>, usize>,
}

impl GroupBuilder {
    fn new(plan: GroupPlan, members: Vec<(String, Vec<String>)>) -> GroupBuilder {
        GroupBuilder {
            plan,
            members,
            lookups: Vec::new(),
            inputs: DistinctExprs::default(),
            predicates: DistinctExprs::default(),
            filters: HashMap::new(),
        }
    }

    fn finish(mut self, project: &Project, depth: usize) -> Result<GroupPlan, GroupingError> {
        self.plan.inputs = self.inputs.into_vec();
        self.plan.predicates = self.predicates.into_vec();
        self.plan.filters = vec![Vec::new(); self.filters.len()];
        for (conjunction, slot) in self.filters {
            self.plan.filters[slot] = conjunction;
        }
        // Each lookup an expression reads: the plan of its feature, planned alone.
        let mut read = Vec::new();
        for e in self.plan.inputs.iter().chain(&self.plan.predicates) {
            e.columns_into(&mut read);
        }
        for (lookup, view) in self.lookups {
            if !read.contains(&lookup.column) {
                continue;
            }
            if depth >= MAX_LOOKUP_DEPTH {
                return Err(GroupingError::LookupsTooDeep { view });
            }
            self.plan.lookups.push(LookupPlan {
                column: lookup.column,
                keys: lookup.keys,
                plan: plan_placing(project, &[lookup.feature], &[], depth + 1)?,
            });
        }
        // The union's members: the columns read (the lookups' keys among them) that
        // each has.
        let read = self.plan.columns_read();
        self.plan.union = self
            .members
            .into_iter()
            .map(|(source, columns)| UnionMember {
                source,
                time_column: columns.first().cloned().unwrap_or_default(),
                columns: read
                    .iter()
                    .filter(|c| columns.contains(c))
                    .cloned()
                    .collect(),
            })
            .collect();
        Ok(self.plan)
    }

    /// A view expression as the group computes it: lets inlined and, over one
    /// source, `source()` its name (over several, a column of the union).
    fn expression(&self, e: &Expr, view: &View) -> Result<Expr, GroupingError> {
        let inlined = inline_lets(e, &view.lets, 0, &view.name)?;
        if !self.members.is_empty() {
            return Ok(inlined);
        }
        let name = &self.plan.source;
        rewrite_columns(&inlined, &|column| {
            Ok((column == ir::SOURCE_NAME_COLUMN).then(|| Expr {
                kind: ExprKind::Literal(ir::Literal::String(name.clone())),
                ty: ir::DataType::String,
                nullable: false,
                span: e.span,
            }))
        })
    }

    fn feature(
        &mut self,
        view: &View,
        feature: &ir::Feature,
        aggregate: &ir::Aggregate,
    ) -> Result<FeaturePlan, GroupingError> {
        for lookup in &view.lookups {
            if !self.lookups.iter().any(|(l, _)| l.column == lookup.column) {
                self.lookups.push((lookup.clone(), view.name.clone()));
            }
        }
        let view_where = match &view.filter {
            Some(e) => Some(self.predicates.insert(self.expression(e, view)?).0),
            None => None,
        };
        let feature_where = match &aggregate.filter {
            Some(e) => Some(self.predicates.insert(self.expression(e, view)?).0),
            None => None,
        };
        let input = match &aggregate.arg {
            Some(e) => Some(self.inputs.insert(self.expression(e, view)?).0),
            None => None,
        };
        let mut conjunction: Vec<usize> = view_where.into_iter().chain(feature_where).collect();
        conjunction.sort_unstable();
        conjunction.dedup();
        let filter = self.filter_slot(conjunction);
        let view_filter = self.filter_slot(view_where.into_iter().collect());
        // A delay `D` reads the group at `t - D` (`GroupPlan::state_time`): a ttl's
        // `(t - ttl, t]` of visible events is `(t' - (ttl - D), t']`, and a window
        // read with shift `s` keeps `(t - s - W, t - max(s, D)]`, which is the window
        // `W - max(D - s, 0)` read with shift `max(s - D, 0)` at `t'`. `check`
        // refuses windows and ttls that would keep nothing.
        let delay = self.plan.delay_us;
        let ttl = view.ttl_us.map(|ttl_us| TtlRule {
            ttl_us: ttl_us.saturating_sub(delay),
            filter: view_filter,
        });
        let shift = aggregate
            .offset_us
            .saturating_add(i64::from(aggregate.exclusive_end));
        // A pure count window reads the `N` latest events at or before
        // `t - max(s, D)`: shift `max(s - D, 0)` at `t'`, like a window's end.
        let (window_us, shift_us) = match (aggregate.window_us, aggregate.events) {
            (Some(w), _) => (
                Some(w.saturating_sub(delay.saturating_sub(shift).max(0))),
                shift.saturating_sub(delay).max(0),
            ),
            (None, Some(_)) => (None, shift.saturating_sub(delay).max(0)),
            (None, None) => (None, 0),
        };
        Ok(FeaturePlan {
            name: feature.name.clone(),
            view: view.name.clone(),
            agg: aggregate.agg,
            input,
            filter,
            window_us,
            events: aggregate.events,
            shift_us,
            ttl,
            view_filter,
            ty: feature.ty,
            span: feature.span,
        })
    }

    /// The filter slot of a conjunction of predicates (`None` when it is empty).
    fn filter_slot(&mut self, conjunction: Vec<usize>) -> Option<usize> {
        if conjunction.is_empty() {
            return None;
        }
        let next = self.filters.len();
        Some(*self.filters.entry(conjunction).or_insert(next))
    }
}

/// A view's group, empty, and over several sources each one's columns (its time
/// column first) for `GroupBuilder::finish`.
type NewGroup = (GroupPlan, Vec<(String, Vec<String>)>);

fn new_group(project: &Project, view: &View) -> Result<NewGroup, GroupingError> {
    let missing = || GroupingError::UnknownReference {
        view: view.name.clone(),
    };
    let source = project.sources.get(view.source.0).ok_or_else(missing)?;
    let entity = project.entities.get(view.entity.0).ok_or_else(missing)?;
    if entity.keys.len() != view.key_columns.len() {
        return Err(missing());
    }
    let mut members = Vec::new();
    if !view.more_sources.is_empty() {
        for id in view.sources() {
            let s = project.sources.get(id.0).ok_or_else(missing)?;
            let columns = std::iter::once(&s.time_column).chain(s.columns.iter().map(|c| &c.name));
            members.push((s.name.clone(), columns.cloned().collect()));
        }
    }
    let time_column = if members.is_empty() {
        source.time_column.clone()
    } else {
        UNION_TIME_COLUMN.to_string()
    };
    let plan = GroupPlan {
        source: source.name.clone(),
        time_column,
        entity: entity.name.clone(),
        keys: entity
            .keys
            .iter()
            .zip(&view.key_columns)
            .map(|(k, column)| KeyColumn {
                name: k.name.clone(),
                column: column.clone(),
                ty: k.ty,
            })
            .collect(),
        inputs: Vec::new(),
        predicates: Vec::new(),
        filters: Vec::new(),
        features: Vec::new(),
        delay_us: source.delay_us.max(0),
        span: view.span,
        union: Vec::new(),
        lookups: Vec::new(),
    };
    Ok((plan, members))
}

/// `expr` with every reference to a let replaced by the let's own expression (a let
/// sees only the lets declared before it, as `check` resolved it). `featc diff` uses
/// it too, so a feature's meaning inlines lets exactly as the plan does.
pub(crate) fn inline_lets(
    expr: &Expr,
    lets: &[Let],
    depth: usize,
    view: &str,
) -> Result<Expr, GroupingError> {
    if depth > MAX_LET_DEPTH {
        return Err(GroupingError::LetsTooDeep {
            view: view.to_string(),
            span: expr.span,
        });
    }
    rewrite_columns(
        expr,
        &|name| match lets.iter().rposition(|l| l.name == name) {
            Some(i) => inline_lets(&lets[i].expr, &lets[..i], depth + 1, view).map(Some),
            None => Ok(None),
        },
    )
}

/// `expr` with each column `replace` gives an expression for replaced by it.
#[recursive::recursive]
fn rewrite_columns(
    expr: &Expr,
    replace: &dyn Fn(&str) -> Result<Option<Expr>, GroupingError>,
) -> Result<Expr, GroupingError> {
    let kind = match &expr.kind {
        ExprKind::Column(name) => match replace(name)? {
            Some(e) => return Ok(e),
            None => ExprKind::Column(name.clone()),
        },
        other => other.try_map_children(&mut |e| rewrite_columns(e, replace))?,
    };
    Ok(Expr {
        kind,
        ty: expr.ty,
        nullable: expr.nullable,
        span: expr.span,
    })
}
