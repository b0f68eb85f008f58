//! One pipeline query: the features of one view over one window width (or the
//! view's lifetime features), as a sink table and an `INSERT INTO sink SELECT`.
//!
//! The inner `SELECT` reads the source, keeps the view's events (its `where`, and a
//! non-null key: featc aggregates no row with a null key) and groups them by the
//! entity key and, when windowed, by `hop(slide, W)` (`tumble(W)` when the slide is
//! W); the outer `SELECT` names the columns the sink receives: the key (by the
//! entity's key names, and as text in `featc_key`), `window_end` (windowed queries)
//! and one column per feature, then the derived features computed from them.
//! A lifetime query is Arroyo's non-windowed, updating aggregate: its sink gets
//! Debezium changes (`debezium_json`).

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, ObjectName, SelectItem, Statement, TableFactor,
};

use super::aggregate::{aggregate, Input};
use super::flavor::Arroyo;
use super::statements::{create_table, insert, interval, sql_type, window, Column, QUOTE};
use super::{ArroyoOptions, Sink};
use crate::emit::sql::ast::{
    and_all, binary, call, cast, col, ident, int, is_null, item, qcol, query, select, string, when,
    SelectParts,
};
use crate::emit::sql::dialect::Flavor;
use crate::ir::{self, DataType};
use featc_runtime::plan::{FeaturePlan, GroupPlan};

/// The features of one view over one window in one group.
pub struct ViewWindow<'a> {
    pub group: &'a GroupPlan,
    pub view: &'a str,
    /// `None`: the view's lifetime features.
    pub window_us: Option<i64>,
    /// Indices into the group's features, in request order.
    pub features: Vec<usize>,
    /// Of `features`, those only derived features read: computed, not sent.
    pub hidden: Vec<usize>,
    /// Derived features computed from this query's features: name, type, and
    /// their expression over the features' columns.
    pub derived: Vec<(String, DataType, Expr)>,
}

impl ViewWindow<'_> {
    /// `1h`, `7d`, `90s`, or `lifetime`: how sinks, topics and comments name it.
    pub fn label(&self) -> String {
        match self.window_us {
            None => "lifetime".into(),
            Some(us) => duration_label(us),
        }
    }

    /// The sink table's name (and Kafka topic): `featc_<view>_<label>`.
    pub fn sink_name(&self) -> String {
        format!("featc_{}_{}", self.view, self.label())
    }
}

/// A duration in its largest whole unit (`7d`, `1h`, `90s`, `1500us`): the runtime's
/// one printer, so a pipeline names a window as the project writes it.
pub use featc_runtime::row::duration::display as duration_label;

/// A query's statements and the comment lines that precede them in pipeline.sql.
pub struct Built {
    pub comment: Vec<String>,
    pub sink: Statement,
    pub insert: Statement,
}

/// What the query reads from its group: the lowered inputs and predicates, and
/// whether each key column may be null in the source.
pub struct Slots<'a> {
    pub inputs: &'a [Expr],
    pub predicates: &'a [Expr],
    pub nullable_keys: &'a [bool],
}

/// The sink table and the insert of `vw` (every feature of it is computable: see
/// `super::refusals`), hopped by `slide_us` when windowed.
pub fn build(
    flavor: &Arroyo,
    vw: &ViewWindow<'_>,
    slots: &Slots<'_>,
    slide_us: Option<i64>,
    options: &ArroyoOptions,
) -> Built {
    let g = vw.group;
    let q = QUOTE;
    let first = vw.features.first().and_then(|&i| g.features.get(i));
    let view_preds = g.predicates_of(first.and_then(|f| f.view_filter));

    // The view's events: its `where`, and keys that are not null.
    let mut selection: Vec<Expr> = view_preds
        .iter()
        .filter_map(|p| slots.predicates.get(*p).cloned())
        .collect();
    for (k, key) in g.keys.iter().enumerate() {
        if slots.nullable_keys.get(k).copied().unwrap_or(true) {
            selection.push(is_null(col(q, &key.column), true));
        }
    }

    // Inner: keys, window, aggregates.
    let mut inner: Vec<SelectItem> = Vec::new();
    let mut group_by = Vec::new();
    for key in &g.keys {
        inner.push(item(col(q, &key.column), ident(q, &key.name)));
        group_by.push(int(inner.len() as i64));
    }
    if let (Some(w), Some(slide)) = (vw.window_us, slide_us) {
        inner.push(item(window(slide, w), ident(q, "window")));
        group_by.push(int(inner.len() as i64));
    }
    let time_us = flavor.epoch_us(col(q, &g.time_column));
    for &fi in &vw.features {
        let Some(f) = g.features.get(fi) else {
            continue;
        };
        // The feature's own conditions: those of its filter beyond the view's.
        let own: Vec<Expr> = g
            .predicates_of(f.filter)
            .iter()
            .filter(|p| !view_preds.contains(p))
            .filter_map(|p| slots.predicates.get(*p).cloned())
            .collect();
        let value = f.input.and_then(|i| {
            let e = slots.inputs.get(i)?.clone();
            Some((e, g.inputs.get(i)?.ty))
        });
        let agg = aggregate(
            flavor,
            f.agg,
            Input {
                value,
                condition: (!own.is_empty()).then(|| and_all(own)),
                time_us: time_us.clone(),
            },
        );
        inner.push(item(agg, ident(q, &f.name)));
    }
    // The time of the view's latest event in the window, for the ttls shorter than
    // the window.
    let ttl_applied = vw
        .features
        .iter()
        .filter_map(|&fi| g.features.get(fi))
        .any(|f| short_ttl(f).is_some());
    if ttl_applied {
        inner.push(item(
            call("MAX", vec![col(q, &g.time_column)]),
            ident(q, LATEST),
        ));
    }
    let inner_query = query(
        Vec::new(),
        select(SelectParts {
            projection: inner,
            from: crate::emit::sql::ast::table(
                ObjectName::from(vec![super::statements::table_ident(&g.source)]),
                None,
            ),
            joins: Vec::new(),
            selection: (!selection.is_empty()).then(|| and_all(selection)),
            group_by,
        }),
        Vec::new(),
    );

    // Outer: what the sink receives.
    let mut outer: Vec<SelectItem> = Vec::new();
    let mut columns: Vec<Column> = Vec::new();
    // The entity key as text: the Kafka message key (a compacted topic keeps each
    // key's latest row) and the Redis hash's name.
    outer.push(item(key_text(g), ident(q, "featc_key")));
    columns.push(Column::new("featc_key", DataType::String, false));
    if let Sink::Redis { .. } = options.sink {
        outer.push(item(string(&vw.label()), ident(q, "featc_window")));
        columns.push(Column::new("featc_window", DataType::String, false));
    }
    for key in &g.keys {
        outer.push(item(col(q, &key.name), ident(q, &key.name)));
        columns.push(Column::new(&key.name, key.ty, false));
    }
    if vw.window_us.is_some() {
        outer.push(item(qcol(q, "window", "end"), ident(q, "window_end")));
        columns.push(Column::new("window_end", DataType::Timestamp, false));
    }
    for &fi in vw.features.iter().filter(|fi| !vw.hidden.contains(fi)) {
        if let Some(f) = g.features.get(fi) {
            outer.push(item(value(f), ident(q, &f.name)));
            columns.push(Column::new(&f.name, f.ty, true));
        }
    }
    for (name, ty, expr) in &vw.derived {
        outer.push(item(expr.clone(), ident(q, name)));
        columns.push(Column::new(name, *ty, true));
    }
    let outer_query = query(
        Vec::new(),
        select(SelectParts {
            projection: outer,
            from: TableFactor::Derived {
                lateral: false,
                subquery: Box::new(inner_query),
                alias: None,
                sample: None,
            },
            joins: Vec::new(),
            selection: None,
            group_by: Vec::new(),
        }),
        Vec::new(),
    );

    let sink_name = vw.sink_name();
    let updating = vw.window_us.is_none();
    let format = if updating { "debezium_json" } else { "json" };
    let text = |s: &str| s.to_string();
    let sink_options: Vec<(&str, String)> = match &options.sink {
        Sink::Kafka => vec![
            ("connector", text("kafka")),
            ("bootstrap_servers", text(&options.kafka_brokers)),
            ("topic", text(&sink_name)),
            ("type", text("sink")),
            ("format", text(format)),
            ("sink.key_field", text("featc_key")),
        ],
        Sink::Redis { address } => vec![
            ("connector", text("redis")),
            ("address", text(address)),
            ("type", text("sink")),
            ("format", text(format)),
            ("target", text("hash")),
            ("target.key_prefix", text(&format!("featc:{}:", vw.view))),
            ("target.key_column", text("featc_key")),
            ("target.field_column", text("featc_window")),
        ],
    };
    let comment = comment(vw, slide_us, updating);
    Built {
        comment,
        sink: create_table(&sink_name, columns, sink_options),
        insert: insert(&sink_name, outer_query),
    }
}

/// The inner query's column holding the time of the view's latest event.
const LATEST: &str = "featc_latest";

/// The feature's ttl when it is shorter than its window (µs). A ttl at least as long
/// as the window holds in every emitted row: each has an event of the view in its
/// window.
fn short_ttl(f: &FeaturePlan) -> Option<i64> {
    match (f.ttl, f.window_us) {
        (Some(t), Some(w)) if t.ttl_us < w => Some(t.ttl_us),
        _ => None,
    }
}

/// A windowed feature's value as its query sends it, read from the inner query: its
/// aggregate, null when its ttl is shorter than the window and the view's latest
/// event in the window is older than the ttl at the window's last microsecond
/// (featc's `(t - ttl, t]` at `t = end - 1us` is `ts >= end - ttl`).
pub fn value(f: &FeaturePlan) -> Expr {
    let x = col(QUOTE, &f.name);
    match short_ttl(f) {
        None => x,
        Some(ttl) => when(
            binary(
                col(QUOTE, LATEST),
                BinaryOperator::GtEq,
                binary(
                    qcol(QUOTE, "window", "end"),
                    BinaryOperator::Minus,
                    interval(ttl),
                ),
            ),
            x,
        ),
    }
}

/// The entity key as text, `NAME=VALUE[&NAME=VALUE...]` as in featc's Redis layout
/// (docs/online-store.md), except that a string value is written as it is: Arroyo's
/// SQL has no percent-encoding, so a key holding bytes other than `A-Z a-z 0-9 - . _
/// ~` is spelled differently from `featc materialize`'s.
fn key_text(g: &GroupPlan) -> Expr {
    let text = |key: &featc_runtime::plan::KeyColumn| {
        let value = col(QUOTE, &key.name);
        let value = match key.ty {
            DataType::String => value,
            _ => cast(value, sql_type(DataType::String)),
        };
        binary(
            string(&format!("{}=", key.name)),
            BinaryOperator::StringConcat,
            value,
        )
    };
    let mut parts = g.keys.iter().map(text);
    let first = parts.next().unwrap_or_else(|| string(""));
    parts.fold(first, |acc, p| {
        binary(
            binary(acc, BinaryOperator::StringConcat, string("&")),
            BinaryOperator::StringConcat,
            p,
        )
    })
}

/// What the query computes and how it differs from featc, for pipeline.sql's reader.
fn comment(vw: &ViewWindow<'_>, slide_us: Option<i64>, updating: bool) -> Vec<String> {
    let g = vw.group;
    let names: Vec<&str> = vw
        .features
        .iter()
        .filter(|fi| !vw.hidden.contains(fi))
        .filter_map(|&i| g.features.get(i))
        .map(|f| f.name.as_str())
        .chain(vw.derived.iter().map(|(name, _, _)| name.as_str()))
        .collect();
    let mut lines = vec![format!(
        "View `{}` ({}), {}: {}.",
        vw.view,
        g.describe(),
        match vw.window_us {
            Some(_) => format!("window {}", vw.label()),
            None => "lifetime".to_string(),
        },
        names.join(", ")
    )];
    match (vw.window_us, slide_us) {
        (Some(w), Some(slide)) => lines.push(format!(
            "Hopping window [end - {}, end), emitted every {} when the watermark passes its end: featc's value at end - 1us. A window without events emits nothing.",
            duration_label(w),
            duration_label(slide)
        )),
        _ if updating => lines.push(
            "Non-windowed (updating) aggregate: every event updates the key's row, in arrival order; the sink gets Debezium changes.".to_string(),
        ),
        _ => {}
    }
    let short: Vec<String> = vw
        .features
        .iter()
        .filter_map(|&fi| g.features.get(fi))
        .filter_map(|f| short_ttl(f).map(|ttl| format!("{} (ttl {})", f.name, duration_label(ttl))))
        .collect();
    if !short.is_empty() {
        lines.push(format!(
            "Null unless the view's latest event in the window is within the ttl of its end: {}.",
            short.join(", ")
        ));
    }
    lines
}

/// Whether source column `name` of `source` may be null (`true` for an unknown one).
pub fn nullable(source: Option<&ir::Source>, name: &str) -> bool {
    source
        .and_then(|s| s.columns.iter().find(|c| c.name == name))
        .is_none_or(|c| c.nullable)
}
