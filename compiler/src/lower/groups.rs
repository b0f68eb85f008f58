//! `plan_groups`: the one pass that turns requested features of a checked project into
//! the feature plan (`featc_runtime::plan::Plan`) every backend consumes. Here and
//! only here features are grouped by (source, entity key columns), lets are inlined,
//! input and filter expressions are deduplicated, and the ttl rule of each feature is
//! decided.

use std::collections::HashMap;
use std::fmt;

use featc_runtime::ir::{self, Expr, ExprKind, FeatureId, Let, Project, View};
use featc_runtime::plan::{
    DistinctExprs, FeaturePlan, FeatureRef, GroupPlan, KeyColumn, Plan, TtlRule,
};

/// How deep inlining may recurse: `check` bounds an expanded expression's depth at
/// `check::expansion::MAX_DEPTH`, and each let adds one step; deeper means a cycle
/// slipped past `check`.
const MAX_LET_DEPTH: usize = 2 * crate::check::expansion::MAX_DEPTH;

/// Why features could not be planned (each an internal error: a checked project
/// and its own feature ids never give one).
#[derive(Debug, Clone, PartialEq)]
pub enum PlanError {
    /// A feature id that is not in the project.
    UnknownFeature(FeatureId),
    /// A view that names a source or entity that is not in the project.
    UnknownReference { view: String },
    /// Lets nest deeper than `MAX_LET_DEPTH` (a cycle `check` should have refused).
    LetsTooDeep { view: String, span: ir::Span },
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::UnknownFeature(id) => write!(
                f,
                "internal error: no feature {}.{} in the project",
                id.view, id.feature
            ),
            PlanError::UnknownReference { view } => {
                write!(
                    f,
                    "internal error: view `{view}` names a missing source or entity"
                )
            }
            PlanError::LetsTooDeep { view, .. } => {
                write!(f, "view `{view}`: lets nest too deeply (a cycle?)")
            }
        }
    }
}

impl std::error::Error for PlanError {}

/// Plans `features` (in request order; a feature requested twice is computed once).
/// Groups come in order of their first requested feature, features within a group
/// in request order. Linear in the number of features and the size of their
/// expressions.
pub fn plan_groups(project: &Project, features: &[FeatureId]) -> Result<Plan, PlanError> {
    let mut groups: Vec<GroupBuilder> = Vec::new();
    let mut group_of: HashMap<(usize, usize, &[String]), usize> = HashMap::new();
    let mut placed: HashMap<FeatureId, FeatureRef> = HashMap::new();
    let mut outputs = Vec::with_capacity(features.len());
    for &id in features {
        if let Some(r) = placed.get(&id) {
            outputs.push(*r);
            continue;
        }
        let view = project
            .views
            .get(id.view)
            .ok_or(PlanError::UnknownFeature(id))?;
        let feature = view
            .features
            .get(id.feature)
            .ok_or(PlanError::UnknownFeature(id))?;
        let identity = (view.source.0, view.entity.0, view.key_columns.as_slice());
        let group = match group_of.get(&identity) {
            Some(&g) => g,
            None => {
                groups.push(GroupBuilder::new(new_group(project, view)?));
                group_of.insert(identity, groups.len() - 1);
                groups.len() - 1
            }
        };
        let planned = groups[group].feature(view, feature)?;
        groups[group].plan.features.push(planned);
        let r = FeatureRef {
            group,
            feature: groups[group].plan.features.len() - 1,
        };
        placed.insert(id, r);
        outputs.push(r);
    }
    Ok(Plan {
        groups: groups.into_iter().map(GroupBuilder::finish).collect(),
        outputs,
    })
}

/// A group under construction, with the indexes that keep its slots distinct.
struct GroupBuilder {
    plan: GroupPlan,
    inputs: DistinctExprs,
    predicates: DistinctExprs,
    filters: HashMap<Vec<usize>, usize>,
}

impl GroupBuilder {
    fn new(plan: GroupPlan) -> GroupBuilder {
        GroupBuilder {
            plan,
            inputs: DistinctExprs::default(),
            predicates: DistinctExprs::default(),
            filters: HashMap::new(),
        }
    }

    fn finish(mut self) -> GroupPlan {
        self.plan.inputs = self.inputs.into_vec();
        self.plan.predicates = self.predicates.into_vec();
        self.plan.filters = vec![Vec::new(); self.filters.len()];
        for (conjunction, slot) in self.filters {
            self.plan.filters[slot] = conjunction;
        }
        self.plan
    }

    fn feature(&mut self, view: &View, feature: &ir::Feature) -> Result<FeaturePlan, PlanError> {
        let inline = |e: &Expr| inline_lets(e, &view.lets, 0, &view.name);
        let view_where = match &view.filter {
            Some(e) => Some(self.predicates.insert(inline(e)?).0),
            None => None,
        };
        let feature_where = match &feature.filter {
            Some(e) => Some(self.predicates.insert(inline(e)?).0),
            None => None,
        };
        let input = match &feature.arg {
            Some(e) => Some(self.inputs.insert(inline(e)?).0),
            None => None,
        };
        let mut conjunction: Vec<usize> = view_where.into_iter().chain(feature_where).collect();
        conjunction.sort_unstable();
        conjunction.dedup();
        let filter = self.filter_slot(conjunction);
        let view_filter = self.filter_slot(view_where.into_iter().collect());
        let ttl = view.ttl_us.map(|ttl_us| TtlRule {
            ttl_us,
            filter: view_filter,
        });
        Ok(FeaturePlan {
            name: feature.name.clone(),
            view: view.name.clone(),
            agg: feature.agg,
            input,
            filter,
            window_us: feature.window_us,
            shift_us: feature
                .offset_us
                .saturating_add(i64::from(feature.exclusive_end)),
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

fn new_group(project: &Project, view: &View) -> Result<GroupPlan, PlanError> {
    let missing = || PlanError::UnknownReference {
        view: view.name.clone(),
    };
    let source = project.sources.get(view.source.0).ok_or_else(missing)?;
    let entity = project.entities.get(view.entity.0).ok_or_else(missing)?;
    if entity.keys.len() != view.key_columns.len() {
        return Err(missing());
    }
    Ok(GroupPlan {
        source: source.name.clone(),
        time_column: source.time_column.clone(),
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
        span: view.span,
    })
}

/// `expr` with every reference to a let replaced by the let's own expression (a let
/// sees only the lets declared before it, as `check` resolved it).
#[recursive::recursive]
fn inline_lets(expr: &Expr, lets: &[Let], depth: usize, view: &str) -> Result<Expr, PlanError> {
    if depth > MAX_LET_DEPTH {
        return Err(PlanError::LetsTooDeep {
            view: view.to_string(),
            span: expr.span,
        });
    }
    let sub = |e: &Expr| inline_lets(e, lets, depth + 1, view);
    let boxed = |e: &Expr| sub(e).map(Box::new);
    let all = |list: &[Expr]| list.iter().map(sub).collect::<Result<Vec<_>, _>>();
    let kind = match &expr.kind {
        ExprKind::Column(name) => match lets.iter().rposition(|l| &l.name == name) {
            Some(i) => return inline_lets(&lets[i].expr, &lets[..i], depth + 1, view),
            None => ExprKind::Column(name.clone()),
        },
        ExprKind::Literal(l) => ExprKind::Literal(l.clone()),
        ExprKind::Cast(e) => ExprKind::Cast(boxed(e)?),
        ExprKind::Not(e) => ExprKind::Not(boxed(e)?),
        ExprKind::Neg(e) => ExprKind::Neg(boxed(e)?),
        ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
            op: *op,
            lhs: boxed(lhs)?,
            rhs: boxed(rhs)?,
        },
        ExprKind::IsNull { expr, negated } => ExprKind::IsNull {
            expr: boxed(expr)?,
            negated: *negated,
        },
        ExprKind::InList {
            expr,
            list,
            negated,
        } => ExprKind::InList {
            expr: boxed(expr)?,
            list: all(list)?,
            negated: *negated,
        },
        ExprKind::Coalesce(args) => ExprKind::Coalesce(all(args)?),
        ExprKind::Call { func, args } => ExprKind::Call {
            func: *func,
            args: all(args)?,
        },
        ExprKind::Case {
            branches,
            otherwise,
        } => ExprKind::Case {
            branches: branches
                .iter()
                .map(|(c, v)| Ok((sub(c)?, sub(v)?)))
                .collect::<Result<_, PlanError>>()?,
            otherwise: otherwise.as_deref().map(boxed).transpose()?,
        },
    };
    Ok(Expr {
        kind,
        ty: expr.ty,
        nullable: expr.nullable,
        span: expr.span,
    })
}
