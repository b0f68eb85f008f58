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
//! The SQL half: `layout` (what is refused, and which query computes each
//! feature), `source` (a source's table), `query` (one view and window: its
//! sink and its insert, with the derived features that read only its features), `aggregate` (one feature's aggregate), `flavor` (row
//! expressions, through the SQL emitter's shared lowering), `statements` (syntax
//! tree constructors), `refusal` (what is refused, E0044 to E0047). Every statement
//! is a sqlparser syntax tree; only the comments between them are text.

pub mod aggregate;
pub mod flavor;
mod layout;
mod query;
pub mod refusal;
pub mod slide;
mod source;
mod statements;
pub mod udf;
pub mod udfs;

use std::collections::BTreeSet;

use datafusion::sql::sqlparser::ast::{Expr, Statement};

pub use query::duration_label;
pub use refusal::{Reason, Refusal, TimeRule};

use crate::emit::sql::ast::col;
use crate::emit::sql::expr::{Blocked, Lowering};
use crate::ir::Project;
use featc_runtime::plan::Plan;
use layout::Lowered;
use query::Slots;
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

    let queries = layout::layout(plan, &flavor, &lowered)?;
    // The tables read JSON records: a feature of a source of another format is
    // refused rather than read wrongly.
    let mut refusals = Vec::new();
    for q in &queries {
        let topic = project
            .sources
            .iter()
            .find(|s| s.name == q.group.source)
            .and_then(|s| s.topic.as_ref());
        let Some(format) = topic.map(|t| t.format.name()).filter(|f| *f != "json") else {
            continue;
        };
        for f in q.features.iter().filter_map(|&i| q.group.features.get(i)) {
            refusals.push(Refusal {
                feature: f.name.clone(),
                reason: Reason::Format {
                    source: q.group.source.clone(),
                    format,
                },
                span: f.span,
            });
        }
    }
    if !refusals.is_empty() {
        return Err(refusals);
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
