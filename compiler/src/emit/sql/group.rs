//! One `GroupPlan` as CTEs: the source's rows (over several sources, their union:
//! `union`) with the group's inputs and predicates (`featc_events_N`, every row, as
//! featc evaluates them), then each feature by its strategy (`strategy::choose`): a
//! frame over the events with the spine rows as markers (`frame`), or the join of
//! each spine row with the events of its window (`join`). What blocks a feature
//! (`refusal`) is decided here too.
//!
//! Windows are compared in integer microseconds: a feature with window `W` read with
//! shift `s` under delay `D` keeps `t - D - s - W < ts <= t - D - s` (the plan's
//! windows are already the ones the delayed read sees).

use datafusion::sql::sqlparser::ast::{Cte, Expr, SelectItem};

use super::aggregate::MAX_QUANTILE_DEN;
use super::ast::{col, cte, ident, item, select, table, table_name, SelectParts};
use super::expr::{Blocked, Lowering};
use super::frame::frame_sql;
use super::join::join_sql;
use super::refusal::Reason;
use super::script::Names;
use super::strategy::{choose, Strategy};
use super::union::{union_cte, union_name};
use crate::ir::AggKind;
use featc_runtime::plan::{FeaturePlan, GroupPlan};

/// A group's CTEs and, per feature, its value as the final select reads it (from the
/// group CTE under alias `alias`: zero or the empty value when no event joined, null
/// when stale).
pub struct GroupSql {
    pub ctes: Vec<Cte>,
    /// The CTEs with one row per spine row (`featc_row`) the final select joins, and
    /// their aliases: the join strategy's, the frame strategy's.
    pub parts: Vec<(String, String)>,
    /// Per feature, its value.
    pub values: Vec<Expr>,
    /// Per feature, the strategy computing it and why.
    pub strategies: Vec<(Strategy, &'static str)>,
}

/// Why feature `f` of `g` cannot be computed, if it cannot (its aggregation, its
/// input, its filters and its ttl's filter), given what blocks each input and
/// predicate.
pub fn refusal(
    g: &GroupPlan,
    f: &FeaturePlan,
    inputs: &[Result<Expr, Blocked>],
    predicates: &[Result<Expr, Blocked>],
) -> Option<Blocked> {
    if reads_list(g, f) {
        return Some(Blocked {
            reason: Reason::ListColumn,
            span: f.span,
        });
    }
    match f.agg {
        AggKind::LastK(_) | AggKind::FirstK(_) | AggKind::TopK(_) => {
            return Some(Blocked {
                reason: Reason::List { agg: f.agg.name() },
                span: f.span,
            })
        }
        AggKind::Percentile(q) if q.den() > MAX_QUANTILE_DEN => {
            return Some(Blocked {
                reason: Reason::FinePercentile { p: q.to_string() },
                span: f.span,
            })
        }
        _ => {}
    }
    let filters = [f.filter, f.view_filter, f.ttl.and_then(|t| t.filter)];
    blocked_slot(g, f, inputs, predicates, &filters)
}

/// What blocks feature `f`'s input or a predicate of one of `filters` (slots of
/// `g.filters`), if anything: the first one found.
pub fn blocked_slot(
    g: &GroupPlan,
    f: &FeaturePlan,
    inputs: &[Result<Expr, Blocked>],
    predicates: &[Result<Expr, Blocked>],
    filters: &[Option<usize>],
) -> Option<Blocked> {
    let preds = filters.iter().flat_map(|slot| g.predicates_of(*slot));
    f.input
        .iter()
        .filter_map(|i| inputs.get(*i))
        .chain(preds.filter_map(|p| predicates.get(*p)))
        .find_map(|r| r.as_ref().err().cloned())
}

/// The CTEs of group `index` (every feature expressible: see `refusal`).
pub fn group_sql(
    names: &Names<'_>,
    index: usize,
    g: &GroupPlan,
    inputs: Vec<Expr>,
    predicates: Vec<Expr>,
) -> GroupSql {
    let f = names.flavor;
    let q = f.quote();
    let n = |prefix: &str, i: usize| format!("featc_{prefix}{i}");
    let events = format!("featc_events_{index}");

    // The source's rows: keys, time, inputs, predicates.
    let mut projection: Vec<SelectItem> = Vec::new();
    for (k, key) in g.keys.iter().enumerate() {
        projection.push(item(
            f.key_operand(col(q, &key.column), key.ty),
            ident(q, &n("k", k)),
        ));
    }
    projection.push(item(
        f.epoch_us(col(q, &g.time_column)),
        ident(q, "featc_ts"),
    ));
    for (i, e) in inputs.into_iter().enumerate() {
        projection.push(item(e, ident(q, &n("in", i))));
    }
    for (p, e) in predicates.into_iter().enumerate() {
        projection.push(item(e, ident(q, &n("p", p))));
    }
    // Over several sources, the rows come from their union (`union`), one table.
    let union = union_cte(names, index, g);
    let rows = match union {
        Some(_) => union_name(index),
        None => names.table(&g.source).to_string(),
    };
    let events_cte = cte(
        ident(q, &events),
        select(SelectParts {
            projection,
            from: table(table_name(q, &rows), None),
            joins: Vec::new(),
            selection: None,
            group_by: Vec::new(),
        }),
    );

    let strategies: Vec<(Strategy, &'static str)> =
        g.features.iter().map(|feat| choose(f, g, feat)).collect();
    let by = |wanted: Strategy| -> Vec<usize> {
        (0..g.features.len())
            .filter(|fi| strategies.get(*fi).map(|s| s.0) == Some(wanted))
            .collect()
    };
    let (join_feats, frame_feats) = (by(Strategy::Join), by(Strategy::Frame));
    let mut ctes: Vec<Cte> = union.into_iter().chain([events_cte]).collect();
    let mut parts = Vec::new();
    let mut values: Vec<Option<Expr>> = vec![None; g.features.len()];
    let emitted = [
        (!frame_feats.is_empty()).then(|| frame_sql(names, index, g, &events, &frame_feats)),
        (!join_feats.is_empty()).then(|| join_sql(names, index, g, &events, &join_feats)),
    ];
    for part in emitted.into_iter().flatten() {
        ctes.extend(part.ctes);
        parts.push((part.name, part.alias));
        for (fi, v) in part.values {
            if let Some(slot) = values.get_mut(fi) {
                *slot = Some(v);
            }
        }
    }
    GroupSql {
        ctes,
        parts,
        values: values
            .into_iter()
            .map(|v| v.unwrap_or_else(super::ast::null))
            .collect(),
        strategies,
    }
}

/// Each slot's SQL, or what blocks it.
pub type Lowered = Vec<Result<Expr, Blocked>>;

/// Lowers a group's inputs and predicates over the source's columns.
pub fn lower_slots(lowering: &Lowering<'_>, g: &GroupPlan) -> (Lowered, Lowered) {
    let inputs = g.inputs.iter().map(|e| lowering.lower(e)).collect();
    let predicates = g.predicates.iter().map(|e| lowering.lower(e)).collect();
    (inputs, predicates)
}

/// Whether feature `f` of `g` reads a list column, in its input or a filter (its
/// view's too): no dialect computes a list's functions and element-wise `avg` with
/// featc's bits (E0040), nor the Arroyo pipeline (E0044). A struct or map path
/// (`address.city`) is refused alike: no emitted table has its flat column.
pub fn reads_list(g: &GroupPlan, f: &FeaturePlan) -> bool {
    fn has(e: &crate::ir::Expr) -> bool {
        let mut found = e.ty.list().is_some()
            || matches!(&e.kind, crate::ir::ExprKind::Column(n) if crate::ir::is_path_column(n));
        let _ = e.kind.try_map_children(&mut |c| {
            found |= has(c);
            Ok::<_, ()>(c.clone())
        });
        found
    }
    let filters = [f.filter, f.view_filter, f.ttl.and_then(|t| t.filter)]
        .into_iter()
        .flatten()
        .flat_map(|i| g.filters.get(i).into_iter().flatten())
        .filter_map(|p| g.predicates.get(*p));
    f.input
        .and_then(|i| g.inputs.get(i))
        .into_iter()
        .chain(filters)
        .any(has)
}
