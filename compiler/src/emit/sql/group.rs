//! One `GroupPlan` as CTEs: the source's rows with the group's inputs and
//! predicates (`featc_events_N`, every row, as featc evaluates them), then each
//! feature by its strategy (`strategy::choose`): by a frame over the events with the
//! spine rows as markers (`frame`), or joined to the spine rows of the same key whose
//! state time `t - delay` they precede, within the longest window or ttl of the
//! group's join features (`featc_join_N`, with one true/false column per feature
//! condition), ranked where first/last or a percentile needs it (`featc_rank_N`), and
//! aggregated per spine row (`featc_group_N`).
//!
//! Windows are compared in integer microseconds: a feature with window `W` read with
//! shift `s` under delay `D` keeps `t - D - s - W < ts <= t - D - s` (the plan's
//! windows are already the ones the delayed read sees).

use datafusion::sql::sqlparser::ast::{BinaryOperator, Cte, Expr, Ident, SelectItem};

use super::aggregate::{aggregate, Row, MAX_QUANTILE_DEN};
use super::ast::{
    all_of, and_all, binary, boolean, call, case, col, cte, ident, item, join, qcol, select, table,
    table_name, when, JoinKind, SelectParts,
};
use super::expr::{Blocked, Lowering};
use super::frame::frame_sql;
use super::refusal::Reason;
use super::script::Names;
use super::strategy::{choose, Strategy};
use crate::ir::{AggKind, DataType};
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
    let preds = filters
        .iter()
        .flatten()
        .filter_map(|slot| g.filters.get(*slot))
        .flatten();
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
        projection.push(item(col(q, &key.column), ident(q, &n("k", k))));
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
    let events_cte = cte(
        ident(q, &events),
        select(SelectParts {
            projection,
            from: table(table_name(q, names.table(&g.source)), None),
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
    let mut ctes = vec![events_cte];
    let mut parts = Vec::new();
    let mut values: Vec<Option<Expr>> = vec![None; g.features.len()];
    if !frame_feats.is_empty() {
        let frame = frame_sql(names, index, g, &events, &frame_feats);
        ctes.extend(frame.ctes);
        parts.push((frame.name, frame.alias));
        for (fi, v) in frame.values {
            if let Some(slot) = values.get_mut(fi) {
                *slot = Some(v);
            }
        }
    }
    if !join_feats.is_empty() {
        let join = join_sql(names, index, g, &events, &join_feats);
        ctes.extend(join.ctes);
        parts.push((join.name, join.alias));
        for (fi, v) in join.values {
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

/// The join strategy's CTEs and values for features `feats` of group `index`.
struct JoinSql {
    ctes: Vec<Cte>,
    name: String,
    alias: String,
    values: Vec<(usize, Expr)>,
}

fn join_sql(
    names: &Names<'_>,
    index: usize,
    g: &GroupPlan,
    events: &str,
    feats: &[usize],
) -> JoinSql {
    let f = names.flavor;
    let q = f.quote();
    let n = |prefix: &str, i: usize| format!("featc_{prefix}{i}");
    let joined = format!("featc_join_{index}");
    let ranked = format!("featc_rank_{index}");
    let grouped = format!("featc_group_{index}");
    let alias = format!("g{index}");
    let features: Vec<(usize, &FeaturePlan)> = feats
        .iter()
        .filter_map(|fi| g.features.get(*fi).map(|feat| (*fi, feat)))
        .collect();

    // The join: same key, at or before the state time, within the longest reach.
    let t = qcol(q, "s", "featc_t");
    let ts = qcol(q, "e", "featc_ts");
    let before = |us: i64| match us {
        0 => t.clone(),
        us => binary(t.clone(), BinaryOperator::Minus, super::ast::int(us)),
    };
    let reaches: Vec<Option<i64>> = features
        .iter()
        .flat_map(|(_, feat)| {
            let window = feat.window_us.map(|w| w.saturating_add(feat.shift_us));
            [Some(window), feat.ttl.map(|t| Some(t.ttl_us))]
        })
        .flatten()
        .collect();
    let reach: Option<i64> = reaches.iter().try_fold(0i64, |m, r| r.map(|r| m.max(r)));
    let mut on = Vec::new();
    for (k, key) in g.keys.iter().enumerate() {
        on.push(binary(
            qcol(q, "e", &n("k", k)),
            BinaryOperator::Eq,
            qcol(q, "s", &key.name),
        ));
    }
    on.push(binary(ts.clone(), BinaryOperator::LtEq, before(g.delay_us)));
    if let Some(r) = reach {
        on.push(binary(
            ts.clone(),
            BinaryOperator::Gt,
            before(g.delay_us.saturating_add(r)),
        ));
    }

    // One true/false column per distinct condition.
    let mut flags: Vec<Expr> = Vec::new();
    let mut flag = |conds: Vec<Expr>| -> Option<Expr> {
        if conds.is_empty() {
            return None;
        }
        let c = case(vec![(and_all(conds), boolean(true))], Some(boolean(false)));
        let at = match flags.iter().position(|x| *x == c) {
            Some(at) => at,
            None => {
                flags.push(c);
                flags.len() - 1
            }
        };
        Some(col(q, &n("q", at)))
    };
    let filter_conds = |slot: Option<usize>| -> Vec<Expr> {
        slot.and_then(|s| g.filters.get(s))
            .map(|ps| ps.iter().map(|p| qcol(q, "e", &n("p", *p))).collect())
            .unwrap_or_default()
    };
    let mut conditions: Vec<Option<Expr>> = Vec::new();
    let mut fresh: Vec<Option<Expr>> = Vec::new();
    for (_, feat) in &features {
        let mut conds = Vec::new();
        if let Some(w) = feat.window_us {
            let start = g.delay_us.saturating_add(feat.shift_us).saturating_add(w);
            if reach.map(|r| g.delay_us.saturating_add(r)) != Some(start) {
                conds.push(binary(ts.clone(), BinaryOperator::Gt, before(start)));
            }
            if feat.shift_us > 0 {
                let end = g.delay_us.saturating_add(feat.shift_us);
                conds.push(binary(ts.clone(), BinaryOperator::LtEq, before(end)));
            }
        }
        conds.extend(filter_conds(feat.filter));
        conditions.push(flag(conds));
        fresh.push(feat.ttl.and_then(|rule| {
            let mut conds = vec![binary(
                ts.clone(),
                BinaryOperator::Gt,
                before(g.delay_us.saturating_add(rule.ttl_us)),
            )];
            conds.extend(filter_conds(rule.filter));
            flag(conds)
        }));
    }
    let mut projection = vec![
        item(qcol(q, "s", "featc_row"), ident(q, "featc_row")),
        item(ts.clone(), ident(q, "featc_ts")),
    ];
    for i in 0..g.inputs.len() {
        projection.push(item(qcol(q, "e", &n("in", i)), ident(q, &n("in", i))));
    }
    for (i, c) in flags.into_iter().enumerate() {
        projection.push(item(c, ident(q, &n("q", i))));
    }
    let join_cte = cte(
        ident(q, &joined),
        select(SelectParts {
            projection,
            from: table(table_name(q, names.spine_cte()), Some(ident(q, "s"))),
            joins: vec![join(
                JoinKind::Inner,
                table(table_name(q, events), Some(ident(q, "e"))),
                and_all(on),
            )],
            selection: None,
            group_by: Vec::new(),
        }),
    );

    // The aggregates, and the window functions some of them rank with.
    let mut rankings: Vec<(Ident, Expr)> = Vec::new();
    let mut aggregates: Vec<SelectItem> = vec![item(col(q, "featc_row"), ident(q, "featc_row"))];
    let mut values = Vec::new();
    for (ci, (fi, feat)) in features.iter().enumerate() {
        let fi = *fi;
        let row = Row {
            flavor: f,
            condition: conditions.get(ci).cloned().flatten(),
            input: feat.input.map(|i| col(q, &n("in", i))),
            input_ty: feat.input.and_then(|i| g.inputs.get(i)).map(|e| e.ty),
            time: col(q, "featc_ts"),
            spine_row: col(q, "featc_row"),
        };
        let first_rank = rankings.len();
        let rank_col = |i: usize| col(q, &n("r", first_rank + i));
        let (agg, ranks) = aggregate(&row, feat.agg, feat.ty, &rank_col);
        for (i, r) in ranks.into_iter().enumerate() {
            rankings.push((ident(q, &n("r", first_rank + i)), r.expr));
        }
        let value_name = n("f", fi);
        aggregates.push(item(agg, ident(q, &value_name)));
        let mut value = qcol(q, &alias, &value_name);
        if !feat.agg.null_when_empty() {
            let zero = match feat.ty {
                DataType::Float64 => super::expr::float(f, 0.0),
                _ => super::ast::int(0),
            };
            value = call("COALESCE", vec![value, zero]);
        }
        if let Some(stale) = fresh.get(ci).cloned().flatten() {
            let name = n("fresh", fi);
            aggregates.push(item(
                call("COUNT", vec![when(stale, super::ast::int(1))]),
                ident(q, &name),
            ));
            value = when(
                binary(
                    qcol(q, &alias, &name),
                    BinaryOperator::Gt,
                    super::ast::int(0),
                ),
                value,
            );
        }
        values.push((fi, value));
    }
    let mut ctes = vec![join_cte];
    let mut source = joined;
    if !rankings.is_empty() {
        let mut projection = vec![all_of(q, "j")];
        projection.extend(rankings.into_iter().map(|(name, e)| item(e, name)));
        ctes.push(cte(
            ident(q, &ranked),
            select(SelectParts {
                projection,
                from: table(table_name(q, &source), Some(ident(q, "j"))),
                joins: Vec::new(),
                selection: None,
                group_by: Vec::new(),
            }),
        ));
        source = ranked;
    }
    ctes.push(cte(
        ident(q, &grouped),
        select(SelectParts {
            projection: aggregates,
            from: table(table_name(q, &source), None),
            joins: Vec::new(),
            selection: None,
            group_by: vec![col(q, "featc_row")],
        }),
    ));
    JoinSql {
        ctes,
        name: grouped,
        alias,
        values,
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
