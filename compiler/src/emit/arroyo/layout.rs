//! Which query computes each requested feature, or why none can: the refusals
//! (E0044 to E0047, `refusal`; a `date` column is refused as E0045), then one `query::ViewWindow` per view and window of
//! the accepted features, in request order, each with the derived features computed
//! from its features (and the features they read that were not asked for, computed
//! but not sent).

use datafusion::sql::sqlparser::ast::Expr;

use super::aggregate;
use super::flavor::Arroyo;
use super::query::{self, ViewWindow};
use super::refusal::{Reason, Refusal, TimeRule};
use super::statements;
use crate::emit::sql::ast::col;
use crate::emit::sql::expr::{Blocked, Lowering};
use crate::ir::{AggKind, DataType};
use featc_runtime::plan::{FeaturePlan, FeatureRef, GroupPlan, Output, Plan};

/// Each slot's SQL (a group's inputs or predicates), or what blocks it.
pub type Lowered = Vec<Result<Expr, Blocked>>;

/// The queries of `plan`'s requested features, or every one refused. `lowered`
/// holds each group's lowered inputs and predicates.
pub fn layout<'p>(
    plan: &'p Plan,
    flavor: &Arroyo,
    lowered: &[(Lowered, Lowered)],
) -> Result<Vec<ViewWindow<'p>>, Vec<Refusal>> {
    // What is refused; the views and windows of what is not.
    let mut refusals: Vec<Refusal> = Vec::new();
    let mut wanted: Vec<FeatureRef> = Vec::new();
    // Derived features: the query they are computed in (that of every feature they
    // read), their name, type and expression.
    let mut derived: Vec<(FeatureRef, String, DataType, Expr)> = Vec::new();
    // A derived feature reads its features' values as sent (a ttl applied).
    let derived_column = |name: &str| {
        plan.groups
            .iter()
            .flat_map(|g| &g.features)
            .find(|f| f.name == name)
            .map_or_else(|| col(statements::QUOTE, name), query::value)
    };
    let derived_lowering = Lowering {
        flavor,
        column: &derived_column,
    };
    for o in &plan.outputs {
        match *o {
            Output::Derived(d) => {
                let Some(d) = plan.derived.get(d) else {
                    continue;
                };
                let read_refused = d.reads.iter().find_map(|r| refusal(plan, *r, lowered));
                let home = d.reads.first().copied().filter(|first| {
                    d.request.is_empty() && d.reads.iter().all(|r| same_query(plan, *r, *first))
                });
                match (read_refused, home) {
                    (Some((_, reason, span)), _) => refuse(&mut refusals, &d.name, reason, span),
                    (None, None) => refuse(&mut refusals, &d.name, Reason::Derived, d.span),
                    (None, Some(home)) => match derived_lowering.lower(&d.expr) {
                        Ok(sql) => derived.push((home, d.name.clone(), d.ty, sql)),
                        Err(b) => {
                            refuse(&mut refusals, &d.name, Reason::from_sql(b.reason), b.span)
                        }
                    },
                }
            }
            Output::Aggregate(r) => match refusal(plan, r, lowered) {
                Some((name, reason, span)) => refuse(&mut refusals, &name, reason, span),
                None if !wanted.contains(&r) => wanted.push(r),
                None => {}
            },
        }
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    let mut queries: Vec<ViewWindow<'_>> = Vec::new();
    let reads = plan
        .derived
        .iter()
        .flat_map(|d| d.reads.iter().map(|r| (*r, true)));
    let features = wanted.iter().map(|r| (*r, false)).chain(reads);
    for (r, read_only) in features {
        let (Some(g), Some(f)) = (plan.groups.get(r.group), plan.feature(r)) else {
            continue;
        };
        let same = |q: &ViewWindow<'_>| {
            std::ptr::eq(q.group, g) && q.view == f.view && q.window_us == f.window_us
        };
        let q = match queries.iter_mut().position(|q| same(q)) {
            Some(at) => &mut queries[at],
            None if read_only && !derived.iter().any(|(home, ..)| same_query(plan, *home, r)) => {
                continue;
            }
            None => {
                queries.push(ViewWindow {
                    group: g,
                    view: &f.view,
                    window_us: f.window_us,
                    features: Vec::new(),
                    hidden: Vec::new(),
                    derived: Vec::new(),
                });
                let last = queries.len() - 1;
                &mut queries[last]
            }
        };
        if !q.features.contains(&r.feature) {
            q.features.push(r.feature);
            if read_only {
                q.hidden.push(r.feature);
            }
        }
    }
    for (home, name, ty, sql) in derived {
        let Some(f) = plan.feature(home) else {
            continue;
        };
        let home_query = queries.iter_mut().find(|q| {
            plan.groups
                .get(home.group)
                .is_some_and(|g| std::ptr::eq(q.group, g))
                && q.view == f.view
                && q.window_us == f.window_us
        });
        if let Some(q) = home_query {
            q.derived.push((name, ty, sql));
        }
    }

    Ok(queries)
}

/// Whether features `a` and `b` are computed by the same query: same group, view
/// and window.
fn same_query(plan: &Plan, a: FeatureRef, b: FeatureRef) -> bool {
    match (plan.feature(a), plan.feature(b)) {
        (Some(fa), Some(fb)) => {
            a.group == b.group && fa.view == fb.view && fa.window_us == fb.window_us
        }
        _ => false,
    }
}

fn refuse(refusals: &mut Vec<Refusal>, feature: &str, reason: Reason, span: crate::ir::SourceSpan) {
    if !refusals.iter().any(|r| r.feature == feature) {
        refusals.push(Refusal {
            feature: feature.to_string(),
            reason,
            span,
        });
    }
}

/// Whether feature `f` of group `g` reads a value of type `ty`: as a key column, or
/// anywhere in its input or filters (the view's too).
/// The first decimal type feature `f` reads (its key, argument or filters), if any.
fn reads_decimal(g: &GroupPlan, f: &FeaturePlan) -> Option<DataType> {
    fn find(e: &crate::ir::Expr) -> Option<DataType> {
        let mut found = e.ty.is_decimal().then_some(e.ty);
        let _ = e.kind.try_map_children(&mut |c| {
            found = found.or_else(|| find(c));
            Ok::<_, ()>(c.clone())
        });
        found
    }
    let filters = [f.filter, f.view_filter]
        .into_iter()
        .flatten()
        .flat_map(|i| g.filters.get(i).into_iter().flatten())
        .filter_map(|p| g.predicates.get(*p));
    g.keys
        .iter()
        .map(|k| k.ty)
        .find(|t| t.is_decimal())
        .or_else(|| {
            f.input
                .and_then(|i| g.inputs.get(i))
                .into_iter()
                .chain(filters)
                .find_map(find)
        })
}

fn reads_type(g: &GroupPlan, f: &FeaturePlan, ty: DataType) -> bool {
    fn has(e: &crate::ir::Expr, ty: DataType) -> bool {
        let mut found = e.ty == ty;
        let _ = e.kind.try_map_children(&mut |c| {
            found |= has(c, ty);
            Ok::<_, ()>(c.clone())
        });
        found
    }
    let filters = [f.filter, f.view_filter]
        .into_iter()
        .flatten()
        .flat_map(|i| g.filters.get(i).into_iter().flatten())
        .filter_map(|p| g.predicates.get(*p));
    g.keys.iter().any(|k| k.ty == ty)
        || f.input
            .and_then(|i| g.inputs.get(i))
            .into_iter()
            .chain(filters)
            .any(|e| has(e, ty))
}

/// Why feature `r` cannot be computed by the pipeline, if it cannot: its name, the
/// reason and where.
fn refusal(
    plan: &Plan,
    r: FeatureRef,
    lowered: &[(Lowered, Lowered)],
) -> Option<(String, Reason, crate::ir::SourceSpan)> {
    let g = plan.groups.get(r.group)?;
    let f = g.features.get(r.feature)?;
    let why = |reason: Reason| Some((f.name.clone(), reason, f.span));
    if let AggKind::LastK(_) | AggKind::FirstK(_) | AggKind::TopK(_) = f.agg {
        return why(Reason::List { agg: f.agg.name() });
    }
    if crate::emit::sql::group::reads_list(g, f) {
        return why(Reason::ListColumn);
    }
    if reads_type(g, f, DataType::Date) {
        return why(Reason::Type {
            ty: DataType::Date.name(),
        });
    }
    // Arroyo's decimal arithmetic and JSON reading are its own: refused like dates.
    if let Some(ty) = reads_decimal(g, f) {
        return why(Reason::Type { ty: ty.name() });
    }
    // Each query reads one source's table (`query::build`); a union would have to
    // judge lateness per source, which one watermark cannot.
    if !g.union.is_empty() {
        return why(Reason::TimeRule {
            rule: TimeRule::Sources,
        });
    }
    if f.events.is_some() {
        return why(Reason::TimeRule {
            rule: TimeRule::Events,
        });
    }
    if f.shift_us > 0 {
        return why(Reason::TimeRule {
            rule: TimeRule::Shift,
        });
    }
    if g.delay_us > 0 {
        return why(Reason::TimeRule {
            rule: TimeRule::Delay,
        });
    }
    // A windowed feature's ttl is applied in its query (`query::value`); a lifetime
    // feature's updating aggregate has no read time to apply it at.
    if f.ttl.is_some() && f.window_us.is_none() {
        return why(Reason::TimeRule {
            rule: TimeRule::Ttl,
        });
    }
    // An aggregation through a UDF that cannot be generated (arroyo-udf-plugin
    // passes no strings or booleans to an aggregate).
    let ty = f
        .input
        .and_then(|i| g.inputs.get(i))
        .map_or(DataType::Int64, |e| e.ty);
    if let Some(spec) = aggregate::udf_needed(f.agg, ty) {
        if super::udfs::check(&spec).is_err() {
            return why(Reason::NoUdf {
                agg: f.agg.name(),
                ty: ty.name(),
            });
        }
    }
    let (inputs, predicates) = lowered.get(r.group)?;
    crate::emit::sql::group::blocked_slot(g, f, inputs, predicates, &[f.filter, f.view_filter])
        .map(|b| (f.name.clone(), Reason::from_sql(b.reason), b.span))
}
