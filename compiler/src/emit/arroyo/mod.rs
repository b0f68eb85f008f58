//! Arroyo pipelines (`featc build PROJECT --emit arroyo --out DIR`): `pipeline.sql`
//! (Kafka source tables, one query per view and window, a sink) and, in `DIR/udfs/`,
//! a generated workspace of UDF crates (arroyo-udf-plugin, arrow 51, built in its own
//! workspace, never featc's) for what Arroyo SQL computes differently from featc.
//! docs/scale-out.md ("Streaming on Arroyo") states what the pipeline computes and how
//! it differs from featc's `(t - W, t]`.
//!
//! The two halves meet in `udf`: the SQL calls UDFs by `UdfSpec::name`, the crate
//! generator writes one crate per `UdfSpec`. `slide` is the hop a window is emitted
//! with, shared with the tests that measure its staleness cost.
//!
//! The SQL half: `source` (a source's table), `query` (one view and window: its
//! sink and its insert, with the derived features that read only its features), `aggregate` (one feature's aggregate), `flavor` (row
//! expressions, through the SQL emitter's shared lowering), `statements` (syntax
//! tree constructors), `refusal` (what is refused, E0044 to E0047). Every statement
//! is a sqlparser syntax tree; only the comments between them are text.

mod aggregate;
mod flavor;
mod query;
pub mod refusal;
pub mod slide;
mod source;
mod statements;
pub mod udf;

use std::collections::BTreeSet;

use datafusion::sql::sqlparser::ast::{Expr, Statement};

pub use query::duration_label;
pub use refusal::{Reason, Refusal, TimeRule};

use crate::emit::sql::ast::col;
use crate::emit::sql::expr::{Blocked, Lowering};
use crate::ir::{AggKind, Project};
use featc_runtime::plan::{FeatureRef, Output, Plan};
use query::{Slots, ViewWindow};
use udf::UdfSpec;

/// Where the pipeline's queries write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// One Kafka topic per query, named like its sink table.
    Kafka,
    /// Redis hashes (`featc:<view>:<key>`, one field per window), at `address`.
    Redis { address: String },
}

/// How a window's slide is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlideRule {
    /// This slide (µs) for every window (`--slide`; `slide::check_fixed` says which
    /// window it does not divide).
    Fixed(i64),
    /// The largest slide within this staleness (µs), per window (`slide::slide_for`).
    Staleness(i64),
}

impl SlideRule {
    /// The slide of a window `width_us` wide: a fixed slide that does not divide it
    /// (checked before, by `slide::check_fixed`) falls back to the largest divisor
    /// below it.
    pub fn slide(self, width_us: i64) -> i64 {
        match self {
            SlideRule::Fixed(s) if s > 0 && width_us % s == 0 => s,
            SlideRule::Fixed(s) | SlideRule::Staleness(s) => slide::slide_for(width_us, s.max(1)),
        }
    }
}

/// The options of `--emit arroyo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArroyoOptions {
    /// Kafka's bootstrap servers (`host:port,...`), for sources and Kafka sinks.
    pub kafka_brokers: String,
    pub sink: Sink,
    pub slide: SlideRule,
}

impl Default for ArroyoOptions {
    fn default() -> ArroyoOptions {
        ArroyoOptions {
            kafka_brokers: "localhost:9092".into(),
            sink: Sink::Kafka,
            slide: SlideRule::Staleness(slide::DEFAULT_STALENESS_US),
        }
    }
}

/// One statement of the pipeline and the comment lines before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub comment: Vec<String>,
    pub statement: Statement,
}

/// An emitted pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct ArroyoPipeline {
    pub items: Vec<Item>,
    /// Every UDF the SQL calls.
    pub udfs: BTreeSet<UdfSpec>,
}

impl ArroyoPipeline {
    /// The statements, in order.
    pub fn statements(&self) -> impl Iterator<Item = &Statement> {
        self.items.iter().map(|i| &i.statement)
    }

    /// pipeline.sql: each statement pretty-printed and ended by `;`, after its
    /// comment lines (`-- ...`), statements separated by a blank line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            for line in &item.comment {
                out.push_str(&format!("-- {line}\n").replace("-- \n", "--\n"));
            }
            // sqlparser's pretty printer leaves spaces after a table's last column.
            let statement = format!("{:#};", item.statement);
            for line in statement.lines() {
                out.push_str(line.trim_end());
                out.push('\n');
            }
        }
        out
    }
}

/// The pipeline computing `plan`'s requested features on Arroyo, or every requested
/// feature it cannot compute as featc defines it. `project` gives the sources'
/// declared columns, topics and lateness (the plan has only the columns it reads).
pub fn emit(
    project: &Project,
    plan: &Plan,
    options: &ArroyoOptions,
) -> Result<ArroyoPipeline, Vec<Refusal>> {
    let flavor = flavor::Arroyo::default();
    let column = |name: &str| col(statements::QUOTE, name);
    let lowering = Lowering {
        flavor: &flavor,
        column: &column,
    };
    let lowered: Vec<(Lowered, Lowered)> = plan
        .groups
        .iter()
        .map(|g| {
            (
                g.inputs.iter().map(|e| lowering.lower(e)).collect(),
                g.predicates.iter().map(|e| lowering.lower(e)).collect(),
            )
        })
        .collect();

    // What is refused; the views and windows of what is not.
    let mut refusals: Vec<Refusal> = Vec::new();
    let mut wanted: Vec<FeatureRef> = Vec::new();
    // Derived features: the query they are computed in (that of every feature they
    // read), their name, type and expression.
    let mut derived: Vec<(FeatureRef, String, crate::ir::DataType, Expr)> = Vec::new();
    // A derived feature reads its features' values as sent (a ttl applied).
    let derived_column = |name: &str| {
        plan.groups
            .iter()
            .flat_map(|g| &g.features)
            .find(|f| f.name == name)
            .map_or_else(|| col(statements::QUOTE, name), query::value)
    };
    let derived_lowering = Lowering {
        flavor: &flavor,
        column: &derived_column,
    };
    for o in &plan.outputs {
        match *o {
            Output::Derived(d) => {
                let Some(d) = plan.derived.get(d) else {
                    continue;
                };
                let read_refused = d.reads.iter().find_map(|r| refusal(plan, *r, &lowered));
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
            Output::Aggregate(r) => match refusal(plan, r, &lowered) {
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

    let mut items = Vec::new();
    if queries.iter().any(|q| q.window_us.is_none()) {
        items.push(Item {
            comment: vec![
                "Lifetime features are updating aggregates, whose per-key state Arroyo drops after"
                    .into(),
                "`updating_ttl` without an update (default 24 hours): keep it for 100 years."
                    .into(),
            ],
            statement: statements::set(
                "updating_ttl",
                statements::interval(36_500 * 86_400_000_000),
            ),
        });
    }
    let mut sources: Vec<&str> = Vec::new();
    for q in &queries {
        if !sources.contains(&q.group.source.as_str()) {
            sources.push(&q.group.source);
        }
    }
    for name in sources {
        if let Some(s) = project.sources.iter().find(|s| s.name == name) {
            items.push(Item {
                comment: vec![format!(
                    "Source `{}`: Kafka topic `{}`, JSON records (the time column in RFC 3339), watermark {} behind the latest event.",
                    s.name,
                    source::topic(s),
                    match s.lateness_us {
                        0 => "0s".to_string(),
                        us => query::duration_label(us),
                    }
                )],
                statement: source::table(s, &options.kafka_brokers),
            });
        }
    }
    for q in &queries {
        let gi = plan
            .groups
            .iter()
            .position(|g| std::ptr::eq(g, q.group))
            .unwrap_or_default();
        let Some((inputs, predicates)) = lowered.get(gi) else {
            continue;
        };
        // Every slot a wanted feature reads was lowered (else it was refused); one
        // that no wanted feature reads is never looked at.
        let ok =
            |r: &Result<Expr, Blocked>| r.clone().unwrap_or_else(|_| crate::emit::sql::ast::null());
        let inputs: Vec<Expr> = inputs.iter().map(ok).collect();
        let predicates: Vec<Expr> = predicates.iter().map(ok).collect();
        let source = project.sources.iter().find(|s| s.name == q.group.source);
        let nullable_keys: Vec<bool> = q
            .group
            .keys
            .iter()
            .map(|k| query::nullable(source, &k.column))
            .collect();
        let slots = Slots {
            inputs: &inputs,
            predicates: &predicates,
            nullable_keys: &nullable_keys,
        };
        let slide = q.window_us.map(|w| options.slide.slide(w));
        let built = query::build(&flavor, q, &slots, slide, options);
        items.push(Item {
            comment: built.comment,
            statement: built.sink,
        });
        items.push(Item {
            comment: Vec::new(),
            statement: built.insert,
        });
    }
    Ok(ArroyoPipeline {
        items,
        udfs: flavor.into_used(),
    })
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

/// Each slot's SQL (a group's inputs or predicates), or what blocks it.
type Lowered = Vec<Result<Expr, Blocked>>;

fn refuse(refusals: &mut Vec<Refusal>, feature: &str, reason: Reason, span: crate::ir::Span) {
    if !refusals.iter().any(|r| r.feature == feature) {
        refusals.push(Refusal {
            feature: feature.to_string(),
            reason,
            span,
        });
    }
}

/// Why feature `r` cannot be computed by the pipeline, if it cannot: its name, the
/// reason and where.
fn refusal(
    plan: &Plan,
    r: FeatureRef,
    lowered: &[(Lowered, Lowered)],
) -> Option<(String, Reason, crate::ir::Span)> {
    let g = plan.groups.get(r.group)?;
    let f = g.features.get(r.feature)?;
    let why = |reason: Reason| Some((f.name.clone(), reason, f.span));
    if let AggKind::LastK(_) | AggKind::FirstK(_) | AggKind::TopK(_) = f.agg {
        return why(Reason::List { agg: f.agg.name() });
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
    let (inputs, predicates) = lowered.get(r.group)?;
    let filters = [f.filter, f.view_filter];
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
        .map(|b| (f.name.clone(), Reason::from_sql(b.reason), b.span))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    #[test]
    fn a_slide_rule_gives_each_window_a_dividing_slide() {
        assert_eq!(SlideRule::Fixed(60 * S).slide(3600 * S), 60 * S);
        // Not dividing (refused by the CLI before): the largest divisor below it.
        assert_eq!(SlideRule::Fixed(7 * 60 * S).slide(3600 * S), 400 * S);
        assert_eq!(SlideRule::Staleness(7 * 60 * S).slide(3600 * S), 400 * S);
        assert_eq!(SlideRule::Staleness(2 * 3600 * S).slide(3600 * S), 3600 * S);
        assert_eq!(SlideRule::Fixed(0).slide(3600 * S), 1);
    }
}
