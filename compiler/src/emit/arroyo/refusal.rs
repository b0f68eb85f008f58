//! Why the Arroyo pipeline refuses a feature: errors as data (codes E0044 to E0047,
//! see docs/errors.md), each naming the feature and pointing at it, made into
//! `Diagnostic`s here and rendered by `crate::diagnostics` like every other error.
//! A refused feature is never emitted approximately.

use crate::check::exprs::ast_span;
use crate::diagnostics::{Diagnostic, Diagnostics, Label};
use crate::emit::sql::Reason as SqlReason;
use crate::ir::SourceSpan;

/// One refused feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The feature's name.
    pub feature: String,
    pub reason: Reason,
    /// Where: the feature, or the expression or clause at fault.
    pub span: SourceSpan,
}

/// What the pipeline cannot compute as featc defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A feature reading a list column: E0044.
    ListColumn,
    /// A list aggregation (`last_k`, `first_k`, `top_k`): E0044.
    List { agg: &'static str },
    /// A row operation with no exact Arroyo equivalent (and no UDF): E0045.
    Operation { name: String },
    /// An aggregation Arroyo has no exact built-in for, whose UDF cannot be
    /// generated for its type (arroyo-udf-plugin passes an aggregate numbers only;
    /// `udfs::check` says which): E0045.
    NoUdf {
        agg: &'static str,
        ty: std::borrow::Cow<'static, str>,
    },
    /// A feature reading a column of a type the pipeline's tables do not hold yet
    /// (`date`): E0045.
    Type { ty: std::borrow::Cow<'static, str> },
    /// A feature of a source whose topic's records are not JSON (`format avro`,
    /// `format protobuf`): E0045.
    Format {
        source: String,
        format: &'static str,
    },
    /// A derived feature reading features of several views or windows, request
    /// fields, or no feature: E0046.
    Derived,
    /// A time rule a hopping window does not apply (`offset`, `exclusive`, a ttl on
    /// a lifetime feature, a source's `delay`, a count window, each source's own
    /// lateness in a view over several, an as-of lookup's value at each event's
    /// time): E0047.
    TimeRule { rule: TimeRule },
}

/// The time rules of E0047.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRule {
    /// `offset` or `exclusive`: the window is read before `t`.
    Shift,
    /// The view's ttl, on a lifetime feature.
    Ttl,
    /// The source's `delay`.
    Delay,
    /// A count window (`over N events`, `max N events`).
    Events,
    /// A view over several sources (`from a, b`), whose events are each late by
    /// their own source's lateness.
    Sources,
    /// An as-of lookup: another view's feature as of each event's time.
    Lookup,
}

impl Reason {
    /// The reason a row expression has no Arroyo SQL, as the SQL emitter found it.
    pub fn from_sql(reason: SqlReason) -> Reason {
        match reason {
            SqlReason::List { agg } => Reason::List { agg },
            SqlReason::ListColumn => Reason::ListColumn,
            SqlReason::Operation { name } => Reason::Operation { name },
            SqlReason::IntArithmetic { op } => Reason::Operation {
                name: format!("int64 `{op}`"),
            },
            SqlReason::FinePercentile { p } => Reason::Operation {
                name: format!("percentile {p}"),
            },
            SqlReason::Lookup { .. } => Reason::TimeRule {
                rule: TimeRule::Lookup,
            },
        }
    }
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self.reason {
            Reason::List { .. } | Reason::ListColumn => "E0044",
            Reason::Operation { .. }
            | Reason::NoUdf { .. }
            | Reason::Type { .. }
            | Reason::Format { .. } => "E0045",
            Reason::Derived => "E0046",
            Reason::TimeRule { .. } => "E0047",
        }
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let feature = &self.feature;
        let (message, label, help) = match &self.reason {
            Reason::List { agg } => (
                format!("feature `{feature}`: the Arroyo pipeline has no list features"),
                format!("`{agg}` makes a list"),
                "compute list features with `featc serve`, or leave the feature out with --features".to_string(),
            ),
            Reason::ListColumn => (
                format!("feature `{feature}`: the Arroyo pipeline reads no list, struct or map columns"),
                "reads a list column or a struct or map path".to_string(),
                "compute features of list, struct and map columns with `featc serve`, or leave the feature out with --features".to_string(),
            ),
            Reason::Operation { name } => (
                format!("feature `{feature}`: {name} has no exact equivalent in Arroyo"),
                format!("uses {name}"),
                format!("Arroyo's own {name} differs from featc's on some values and no generated UDF computes it: compute the feature with `featc serve`, or leave it out with --features"),
            ),
            Reason::NoUdf { agg, ty } => (
                format!("feature `{feature}`: no Arroyo UDF can compute `{agg}` over {ty}"),
                format!("`{agg}` over {ty}"),
                format!("Arroyo has no exact built-in for it, and arroyo-udf-plugin passes an aggregate UDF numbers only, not {ty} values: compute the feature with `featc serve`, or leave it out with --features"),
            ),
            Reason::Type { ty } => (
                format!("feature `{feature}`: the Arroyo pipeline has no `{ty}` columns"),
                format!("reads a `{ty}` column"),
                format!("featc does not emit Arroyo tables with `{ty}` columns yet (their JSON reading and its errors are not featc's): compute the feature with `featc serve`, or leave it out with --features"),
            ),
            Reason::Format { source, format } => (
                format!("feature `{feature}`: the Arroyo pipeline reads JSON records, and source `{source}`'s are {format}"),
                format!("reads `{source}`, whose topic is {format}"),
                "featc emits Arroyo tables of JSON records only (Arroyo's own Avro and Protobuf reading, and its errors, are not featc's): compute the feature with `featc serve`, or leave it out with --features".to_string(),
            ),
            Reason::Derived => (
                format!("feature `{feature}`: the Arroyo pipeline computes a derived feature only from features of one view and window"),
                "reads features of several views or windows, request fields, or none".to_string(),
                "each query of the pipeline aggregates one view over one window: compute this feature where the features it reads are read (they are in the pipeline's sinks), or leave it out with --features".to_string(),
            ),
            Reason::TimeRule { rule } => {
                let (label, why) = match rule {
                    TimeRule::Shift => (
                        "its window ends before t (`offset` or `exclusive`)",
                        "a hopping window's value is emitted at the window's end, so it cannot end before the read",
                    ),
                    TimeRule::Ttl => (
                        "a lifetime feature of a view with a ttl",
                        "a lifetime feature is an updating aggregate, with no read time to apply the view's ttl at",
                    ),
                    TimeRule::Delay => (
                        "its source has a delay",
                        "the pipeline emits a window's value when the watermark passes its end, not `delay` later",
                    ),
                    TimeRule::Events => (
                        "a count window",
                        "a hopping window holds the events of a duration, not the latest N",
                    ),
                    TimeRule::Sources => (
                        "its view reads several sources",
                        "featc drops an event late by its own source's lateness, and a window over the union of the sources' tables has one watermark, the least of theirs",
                    ),
                    TimeRule::Lookup => (
                        "reads an as-of lookup",
                        "a lookup is another view's value as of each event's time, and a query of the pipeline reads one source's events only, aggregated at the ends of its windows",
                    ),
                };
                (
                    format!("feature `{feature}`: the Arroyo pipeline cannot apply its time rule"),
                    label.to_string(),
                    format!("{why}; compute the feature with `featc serve`, or leave it out with --features"),
                )
            }
        };
        Diagnostic::new(self.code(), message)
            .with_label(Label::primary(ast_span(self.span), label))
            .with_help(help)
    }
}

/// Every refusal as diagnostics, in the order found (feature by feature).
pub fn diagnostics(refusals: &[Refusal]) -> Diagnostics {
    Diagnostics::from(
        refusals
            .iter()
            .map(Refusal::to_diagnostic)
            .collect::<Vec<_>>(),
    )
}
