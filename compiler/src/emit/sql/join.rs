//! The join strategy for a group's features (`strategy::Strategy::Join`): the
//! events joined to the spine rows of the same key whose state time `t - delay` they
//! do not pass, within the longest window or ttl of these features (`featc_join_N`,
//! with one true/false column per feature condition), each count window's events
//! numbered newest first (`featc_count_N`: by time, then value, nulls last, as
//! semantics.md orders them), ranked where a percentile needs it (`featc_rank_N`), and
//! aggregated per spine row (`featc_group_N`). The general form, for the aggregations
//! a frame cannot compute exactly (`frame`) and for count windows.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Cte, Expr, Ident, SelectItem};

use super::aggregate::{aggregate, Row};
use super::ast::{
    all_of, and_all, binary, boolean, call, case, col, cte, descending_nulls_last, ident, item,
    join, qcol, select, table, table_name, when, window, JoinKind, SelectParts,
};
use super::script::Names;
use super::strategy::StrategySql;
use crate::ir::DataType;
use featc_runtime::plan::{FeaturePlan, GroupPlan};

/// The join strategy's CTEs and values for features `feats` of group `index`.
pub fn join_sql(
    names: &Names<'_>,
    index: usize,
    g: &GroupPlan,
    events: &str,
    feats: &[usize],
) -> StrategySql {
    let f = names.flavor;
    let q = f.quote();
    let n = |prefix: &str, i: usize| format!("featc_{prefix}{i}");
    let joined = format!("featc_join_{index}");
    let counted = format!("featc_count_{index}");
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
            f.key_operand(qcol(q, "s", &key.name), key.ty),
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
        g.predicates_of(slot)
            .iter()
            .map(|p| qcol(q, "e", &n("p", *p)))
            .collect()
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
        }
        // A shifted end: a window's, or a count window's (which may have no start).
        if feat.shift_us > 0 {
            let end = g.delay_us.saturating_add(feat.shift_us);
            conds.push(binary(ts.clone(), BinaryOperator::LtEq, before(end)));
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

    // A count window: its condition and a place among the N newest of the events
    // that meet it (ties on time by the value, nulls first, as semantics.md cuts).
    let mut counts: Vec<(Ident, Expr)> = Vec::new();
    for (ci, (fi, feat)) in features.iter().enumerate() {
        let Some(events) = feat.events else { continue };
        let condition = conditions.get(ci).cloned().flatten();
        let mut partition = vec![col(q, "featc_row")];
        partition.extend(condition.clone());
        let mut newest = vec![descending_nulls_last(col(q, "featc_ts"))];
        if let Some(i) = feat.input {
            let ty = g.inputs.get(i).map_or(DataType::Int64, |e| e.ty);
            newest.push(descending_nulls_last(f.order_key(col(q, &n("in", i)), ty)));
        }
        let name = n("c", *fi);
        counts.push((
            ident(q, &name),
            window("ROW_NUMBER", Vec::new(), partition, newest),
        ));
        let within = binary(
            col(q, &name),
            BinaryOperator::LtEq,
            super::ast::int(i64::from(events)),
        );
        conditions[ci] = Some(match condition {
            Some(c) => and_all(vec![c, within]),
            None => within,
        });
    }

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
    // The count windows' places first: the rankings' conditions read them.
    for (name, columns) in [(counted, counts), (ranked, rankings)] {
        if !columns.is_empty() {
            ctes.push(with_columns(q, &name, &source, columns));
            source = name;
        }
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
    StrategySql {
        ctes,
        name: grouped,
        alias,
        values,
    }
}

/// `name AS (SELECT j.*, <columns> FROM source AS j)`: the rows of `source` with
/// window-function columns added.
fn with_columns(q: char, name: &str, source: &str, columns: Vec<(Ident, Expr)>) -> Cte {
    let mut projection = vec![all_of(q, "j")];
    projection.extend(columns.into_iter().map(|(name, e)| item(e, name)));
    cte(
        ident(q, name),
        select(SelectParts {
            projection,
            from: table(table_name(q, source), Some(ident(q, "j"))),
            joins: Vec::new(),
            selection: None,
            group_by: Vec::new(),
        }),
    )
}
