//! The frame strategy for a group's features (`strategy::Strategy::Frame`): the
//! spine rows join the group's events as marker rows (`featc_marks_N`: values null,
//! `featc_row` set), each feature is its aggregate over a `RANGE` frame of the
//! events of the key ordered by time (`featc_frame_N`), and the markers keep their
//! results (`featc_at_N`): O((events + spine) log) per key where the join pairs
//! every spine row with every event of its window.
//!
//! Times are int64 microseconds, so a frame's bounds are exact integer offsets: a
//! window `W` read with shift `s` under delay `D` keeps `t - D - s - W < ts <= t - D -
//! s`, the frame `RANGE BETWEEN D + s + W - 1 PRECEDING AND D + s PRECEDING` (a
//! lifetime feature: `UNBOUNDED PRECEDING`); with `D + s = 0` the end is `CURRENT
//! ROW`, whose peers (events at `ts = t`) are in. A marker's columns are null, so no
//! aggregate counts it; `count(*)` and a ttl's count test `featc_row IS NULL`. An
//! event with a null key or time joins no spine row in the join strategy, so it is
//! left out here too.
//!
//! `first`/`last` rank each event of the key by (time, value) (`featc_oI`: the
//! value's order as semantics.md breaks ties), take the frame's `MIN`/`MAX` rank of
//! the condition's non-null events, and look the value up by key and rank.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{visit_expressions_mut, BinaryOperator, Expr};

use super::aggregate::{aggregate, Row};
use super::ast::{
    and_all, binary, call, col, cte, cte_union, ident, int, is_null, item, join, null, order,
    over_range, qcol, select, table, table_name, when, JoinKind, SelectParts,
};
use super::rows::count_columns;
use super::script::Names;
use super::strategy::StrategySql;
use crate::ir::{AggKind, DataType};
use featc_runtime::plan::GroupPlan;

/// A frame's bounds: microseconds before the marker's time (`lower: None`:
/// unbounded; `upper: 0`: the current row and its peers).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Bounds {
    lower: Option<i64>,
    upper: i64,
}

/// The aggregate functions whose calls become window functions.
const AGGREGATES: [&str; 7] = ["COUNT", "SUM", "MIN", "MAX", "AVG", "bool_or", "bool_and"];

/// The CTEs computing features `frame` (indices into `g.features`) of group `index`
/// by frames; `events` is the group's events CTE.
pub fn frame_sql(
    names: &Names<'_>,
    index: usize,
    g: &GroupPlan,
    events: &str,
    frame: &[usize],
) -> StrategySql {
    let f = names.flavor;
    let q = f.quote();
    let n = |prefix: &str, i: usize| format!("featc_{prefix}{i}");
    let marks = format!("featc_marks_{index}");
    let windowed = format!("featc_frame_{index}");
    let at = format!("featc_at_{index}");
    let alias = format!("g{index}f");
    let keys: Vec<Expr> = (0..g.keys.len()).map(|k| col(q, &n("k", k))).collect();

    // The inputs and predicates the frame features read; the inputs first/last rank.
    let feats = || frame.iter().filter_map(|fi| g.features.get(*fi));
    let mut inputs: Vec<usize> = Vec::new();
    let mut preds: Vec<usize> = Vec::new();
    let mut ranked: Vec<usize> = Vec::new();
    for feat in feats() {
        inputs.extend(feat.input);
        preds.extend(g.predicates_of(feat.filter));
        preds.extend(g.predicates_of(feat.ttl.and_then(|t| t.filter)));
        if matches!(feat.agg, AggKind::First | AggKind::Last) {
            ranked.extend(feat.input);
        }
    }
    for v in [&mut inputs, &mut preds, &mut ranked] {
        v.sort_unstable();
        v.dedup();
    }
    let input_ty = |i: usize| g.inputs.get(i).map_or(DataType::Int64, |e| e.ty);

    // The events (ranked where first/last need it), then the spine rows as markers.
    let mut from_events = Vec::new();
    let mut from_spine = Vec::new();
    for (k, key) in g.keys.iter().enumerate() {
        from_events.push(item(col(q, &n("k", k)), ident(q, &n("k", k))));
        from_spine.push(item(
            f.key_operand(qcol(q, "s", &key.name), key.ty),
            ident(q, &n("k", k)),
        ));
    }
    from_events.push(item(col(q, "featc_ts"), ident(q, "featc_ts")));
    from_spine.push(item(qcol(q, "s", "featc_t"), ident(q, "featc_ts")));
    for i in &inputs {
        from_events.push(item(col(q, &n("in", *i)), ident(q, &n("in", *i))));
        from_spine.push(item(null(), ident(q, &n("in", *i))));
    }
    for p in &preds {
        from_events.push(item(col(q, &n("p", *p)), ident(q, &n("p", *p))));
        from_spine.push(item(null(), ident(q, &n("p", *p))));
    }
    from_events.push(item(null(), ident(q, "featc_row")));
    from_spine.push(item(qcol(q, "s", "featc_row"), ident(q, "featc_row")));
    for i in &ranked {
        let rank = super::ast::window(
            "ROW_NUMBER",
            Vec::new(),
            keys.clone(),
            vec![
                order(col(q, "featc_ts"), true),
                order(f.order_key(col(q, &n("in", *i)), input_ty(*i)), true),
            ],
        );
        from_events.push(item(rank, ident(q, &n("o", *i))));
        from_spine.push(item(null(), ident(q, &n("o", *i))));
    }
    // Count windows: each event's rank and its `ROWS` frame's fold (`rows`).
    for fi in frame {
        let Some(feat) = g.features.get(*fi) else {
            continue;
        };
        let conds: Vec<Expr> = g
            .predicates_of(feat.filter)
            .iter()
            .map(|p| col(q, &n("p", *p)))
            .collect();
        let condition = (!conds.is_empty()).then(|| and_all(conds));
        if let Some(c) = count_columns(f, g, feat, condition) {
            from_events.push(item(c.rank, ident(q, &n("r", *fi))));
            from_events.push(item(c.value, ident(q, &n("v", *fi))));
            from_spine.push(item(null(), ident(q, &n("r", *fi))));
            from_spine.push(item(null(), ident(q, &n("v", *fi))));
        }
    }
    let mut present: Vec<Expr> = keys.iter().map(|k| is_null(k.clone(), true)).collect();
    present.push(is_null(col(q, "featc_ts"), true));
    let marks_cte = cte_union(
        ident(q, &marks),
        select(SelectParts {
            projection: from_events,
            from: table(table_name(q, events), None),
            joins: Vec::new(),
            selection: Some(and_all(present)),
            group_by: Vec::new(),
        }),
        select(SelectParts {
            projection: from_spine,
            from: table(table_name(q, names.spine_cte()), Some(ident(q, "s"))),
            joins: Vec::new(),
            selection: None,
            group_by: Vec::new(),
        }),
    );

    // Every aggregate over its frame, a column of `featc_frame_N`; the markers' values
    // read those columns (`m.featc_wJ`).
    let mut columns: Vec<Expr> = Vec::new();
    let mut over = |e: Expr, b: Bounds| -> Expr {
        let offset = |us: i64| f.frame_offset(us);
        map_aggregates(e, |call| {
            let windowed = over_range(
                call,
                keys.clone(),
                vec![order(col(q, "featc_ts"), true)],
                b.lower.map(offset),
                (b.upper > 0).then(|| offset(b.upper)),
            );
            let at = match columns.iter().position(|c| *c == windowed) {
                Some(at) => at,
                None => {
                    columns.push(windowed);
                    columns.len() - 1
                }
            };
            qcol(q, "m", &n("w", at))
        })
    };
    let is_event = || is_null(col(q, "featc_row"), false);
    let condition = |slot: Option<usize>, event: bool| -> Option<Expr> {
        let mut conds: Vec<Expr> = g
            .predicates_of(slot)
            .iter()
            .map(|p| col(q, &n("p", *p)))
            .collect();
        if event {
            conds.insert(0, is_event());
        }
        (!conds.is_empty()).then(|| and_all(conds))
    };
    let mut lookups = Vec::new();
    let mut values = Vec::new();
    let mut finished = vec![item(qcol(q, "m", "featc_row"), ident(q, "featc_row"))];
    for fi in frame {
        let Some(feat) = g.features.get(*fi) else {
            continue;
        };
        let shift = g.delay_us.saturating_add(feat.shift_us);
        let bounds = Bounds {
            lower: feat
                .window_us
                .map(|w| shift.saturating_add(w).saturating_sub(1)),
            upper: shift,
        };
        let x = feat.input.map(|i| col(q, &n("in", i)));
        // The event of rank `found` in column `rank` of the marks, joined by key: its
        // column `value`.
        let mut look_up = |rank: String, found: Expr, value: String| -> Expr {
            let l = format!("l{}", lookups.len());
            let mut on: Vec<Expr> = (0..g.keys.len())
                .map(|k| {
                    binary(
                        qcol(q, &l, &n("k", k)),
                        BinaryOperator::Eq,
                        qcol(q, "m", &n("k", k)),
                    )
                })
                .collect();
            on.push(binary(qcol(q, &l, &rank), BinaryOperator::Eq, found));
            lookups.push(join(
                JoinKind::Left,
                table(table_name(q, &marks), Some(ident(q, &l))),
                and_all(on),
            ));
            qcol(q, &l, &value)
        };
        let agg = match (feat.agg, feat.input) {
            // A count window: the latest event of its condition in the frame carries
            // the fold of the `N` latest (`rows`).
            _ if feat.events.is_some() => {
                let found = over(call("MAX", vec![col(q, &n("r", *fi))]), bounds);
                look_up(n("r", *fi), found, n("v", *fi))
            }
            (AggKind::First | AggKind::Last, Some(i)) => {
                // The rank of the latest (earliest) non-null event of the frame, then
                // its value, looked up by key and rank.
                let mut conds: Vec<Expr> = condition(feat.filter, false).into_iter().collect();
                conds.push(is_null(col(q, &n("in", i)), true));
                let rank = when(and_all(conds), col(q, &n("o", i)));
                let name = if feat.agg == AggKind::Last {
                    "MAX"
                } else {
                    "MIN"
                };
                let found = over(call(name, vec![rank]), bounds);
                look_up(n("o", i), found, n("in", i))
            }
            _ => {
                let row = Row {
                    flavor: f,
                    condition: condition(feat.filter, feat.agg == AggKind::CountStar),
                    input: x,
                    input_ty: feat.input.map(input_ty),
                    time: col(q, "featc_ts"),
                    spine_row: col(q, "featc_row"),
                };
                let (agg, _) = aggregate(&row, feat.agg, feat.ty, &|_| null());
                over(agg, bounds)
            }
        };
        let value_name = n("f", *fi);
        finished.push(item(agg, ident(q, &value_name)));
        let mut value = qcol(q, &alias, &value_name);
        if !feat.agg.null_when_empty() {
            let zero = match feat.ty {
                DataType::Float64 => super::expr::float(f, 0.0),
                _ => int(0),
            };
            value = call("COALESCE", vec![value, zero]);
        }
        if let Some(rule) = feat.ttl {
            let name = n("fresh", *fi);
            let cond = condition(rule.filter, true).unwrap_or_else(is_event);
            let fresh = Bounds {
                lower: Some(g.delay_us.saturating_add(rule.ttl_us).saturating_sub(1)),
                upper: g.delay_us,
            };
            let count = over(call("COUNT", vec![when(cond, int(1))]), fresh);
            finished.push(item(count, ident(q, &name)));
            value = when(
                binary(qcol(q, &alias, &name), BinaryOperator::Gt, int(0)),
                value,
            );
        }
        values.push((*fi, value));
    }

    let mut projection = vec![item(col(q, "featc_row"), ident(q, "featc_row"))];
    if !lookups.is_empty() {
        projection
            .extend((0..g.keys.len()).map(|k| item(col(q, &n("k", k)), ident(q, &n("k", k)))));
    }
    projection.extend(
        columns
            .into_iter()
            .enumerate()
            .map(|(i, c)| item(c, ident(q, &n("w", i)))),
    );
    let frame_cte = cte(
        ident(q, &windowed),
        select(SelectParts {
            projection,
            from: table(table_name(q, &marks), None),
            joins: Vec::new(),
            selection: None,
            group_by: Vec::new(),
        }),
    );
    let at_cte = cte(
        ident(q, &at),
        select(SelectParts {
            projection: finished,
            from: table(table_name(q, &windowed), Some(ident(q, "m"))),
            joins: lookups,
            selection: Some(is_null(qcol(q, "m", "featc_row"), true)),
            group_by: Vec::new(),
        }),
    );
    StrategySql {
        ctes: vec![marks_cte, frame_cte, at_cte],
        name: at,
        alias,
        values,
    }
}

/// `e` with every aggregate call in it (`AGGREGATES`, not yet windowed) replaced by
/// `window(call)`: the same fold over a frame instead of a group.
pub(super) fn map_aggregates(mut e: Expr, mut window: impl FnMut(Expr) -> Expr) -> Expr {
    let _ = visit_expressions_mut(&mut e, |x| {
        let Expr::Function(func) = x else {
            return ControlFlow::<()>::Continue(());
        };
        let is_aggregate = func.over.is_none()
            && func.name.0.len() == 1
            && AGGREGATES
                .iter()
                .any(|a| func.name.to_string().eq_ignore_ascii_case(a));
        if is_aggregate {
            *x = window(x.clone());
        }
        ControlFlow::Continue(())
    });
    e
}
