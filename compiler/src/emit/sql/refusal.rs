//! Why the SQL emitter refuses a feature: errors as data (codes E0040 to E0043 and
//! E0055, see docs/errors.md), each naming the feature and pointing at it, made into
//! `Diagnostic`s here and rendered by `crate::diagnostics` like every other error.

use crate::check::exprs::ast_span;
use crate::diagnostics::{Diagnostic, Diagnostics, Label};
use crate::ir::SourceSpan;

use super::Dialect;

/// One refused feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The feature's name.
    pub feature: String,
    pub dialect: Dialect,
    pub reason: Reason,
    /// The feature's span.
    pub span: SourceSpan,
}

/// What the dialect cannot compute exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A list aggregation (`last_k`, `first_k`, `top_k`): E0040.
    List { agg: &'static str },
    /// A feature reading a list column (its functions, an element-wise `avg`): E0040.
    ListColumn,
    /// A row function or operator with no exact equivalent in the dialect: E0041.
    Operation { name: String },
    /// int64 arithmetic (`+ - * %`, unary `-`, `abs`), which featc fails on
    /// overflow: E0042.
    IntArithmetic { op: String },
    /// A percentile whose fraction has a denominator above 10^6: E0043.
    FinePercentile { p: String },
    /// An as-of lookup (`let risk = merchants.risk at merchant_id`), read as the
    /// column `column` (`ir::Lookup::column_of`), which the SQL does not compute:
    /// E0055.
    Lookup { column: String },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self.reason {
            Reason::List { .. } | Reason::ListColumn => "E0040",
            Reason::Operation { .. } => "E0041",
            Reason::IntArithmetic { .. } => "E0042",
            Reason::FinePercentile { .. } => "E0043",
            Reason::Lookup { .. } => "E0055",
        }
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let dialect = self.dialect.name();
        let (message, label, help) = match &self.reason {
            Reason::List { agg } => (
                format!(
                    "feature `{}`: the {dialect} SQL has no list features",
                    self.feature
                ),
                format!("`{agg}` makes a list"),
                "compute list features with `featc training-set`, or leave the feature out with --features".to_string(),
            ),
            Reason::ListColumn => (
                format!(
                    "feature `{}`: the {dialect} SQL reads no list, struct or map columns",
                    self.feature
                ),
                "reads a list column or a struct or map path".to_string(),
                "compute features of list, struct and map columns with `featc training-set`, or leave the feature out with --features".to_string(),
            ),
            Reason::Operation { name } => (
                format!(
                    "feature `{}`: {name} has no exact equivalent in {dialect}",
                    self.feature
                ),
                format!("uses {name}"),
                format!("{dialect}'s own {name} differs from featc's on some values (docs/scale-out.md lists what each dialect computes): use another dialect, or leave the feature out with --features"),
            ),
            Reason::IntArithmetic { op } => (
                format!(
                    "feature `{}`: int64 `{op}` in SQL for {dialect}",
                    self.feature
                ),
                format!("int64 `{op}` here"),
                "featc fails a run when int64 arithmetic overflows on any event, and the emitted SQL cannot promise to: compute the feature with `featc training-set`, or leave it out with --features".to_string(),
            ),
            Reason::FinePercentile { p } => (
                format!(
                    "feature `{}`: percentile {p} is too fine for the SQL rank",
                    self.feature
                ),
                format!("p = {p}"),
                "the SQL ranks with exact int64 arithmetic on p's fraction: write p with at most 6 decimal places".to_string(),
            ),
            Reason::Lookup { column } => (
                format!(
                    "feature `{}`: the {dialect} SQL computes no as-of lookups",
                    self.feature
                ),
                format!("looks up `{column}`"),
                "a lookup reads another view's feature as of each event's time, which the emitted SQL does not compute: compute the feature with `featc training-set`, or leave it out with --features".to_string(),
            ),
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
