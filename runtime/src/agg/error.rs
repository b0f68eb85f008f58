//! `AggError`: why an aggregation could not produce a value.

use std::fmt;

use crate::ir::{AggKind, DataType};

/// An aggregation failure. Errors are data: executors report them with the feature
/// and key they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AggError {
    /// An integer `sum` whose exact total does not fit in int64.
    IntegerOverflow { agg: AggKind },
    /// A decimal `sum` whose exact total has more than 38 digits.
    DecimalOverflow { agg: AggKind },
    /// The aggregation does not accept this input type (see `AggKind::result_type`).
    UnsupportedInput {
        agg: AggKind,
        input: Option<DataType>,
    },
    /// A derived feature's expression failed (an int64 overflow), with its message.
    Expression(String),
    /// A value whose variant does not match the accumulator's declared input type was
    /// fed to it (an executor bug, not bad user data); the value was ignored.
    TypeMismatch {
        agg: AggKind,
        expected: Option<DataType>,
        found: &'static str,
    },
}

impl fmt::Display for AggError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ty = |t: &Option<DataType>| t.map_or(std::borrow::Cow::Borrowed("*"), |t| t.name());
        match self {
            AggError::IntegerOverflow { agg } => {
                write!(f, "{}: integer result overflows int64", agg.name())
            }
            AggError::DecimalOverflow { agg } => {
                write!(f, "{}: decimal result has more than 38 digits", agg.name())
            }
            AggError::Expression(message) => write!(f, "{message}"),
            AggError::UnsupportedInput { agg, input } => {
                write!(
                    f,
                    "{} does not accept input of type {}",
                    agg.name(),
                    ty(input)
                )
            }
            AggError::TypeMismatch {
                agg,
                expected,
                found,
            } => write!(
                f,
                "{}: expected {} input, got a {found} value",
                agg.name(),
                ty(expected)
            ),
        }
    }
}

impl std::error::Error for AggError {}

/// An aggregation failure where it happened: the feature, the entity (its key as
/// `name = value` pairs) and the time it was evaluated at. Both executors report it
/// in this one form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureError {
    pub feature: String,
    pub entity: String,
    /// Microseconds since the epoch, UTC.
    pub at: i64,
    /// The spine row read (from 0, in the spine's order): which of two failures at
    /// one time a run names (`precedes`); not shown.
    pub row: u64,
    pub error: AggError,
}

impl FeatureError {
    /// Whether a run that fails with both names `self` rather than `other`: the
    /// earlier by time, then by spine row, then by feature name (semantics.md, "Errors
    /// while computing"), whatever order a path met them in.
    pub fn precedes(&self, other: &FeatureError) -> bool {
        (self.at, self.row, &self.feature) < (other.at, other.row, &other.feature)
    }

    /// `first` becomes whichever of it and `error` the run names.
    pub fn keep_first(first: &mut Option<FeatureError>, error: FeatureError) {
        if first.as_ref().is_none_or(|f| error.precedes(f)) {
            *first = Some(error);
        }
    }
}

impl fmt::Display for FeatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "feature `{}` for {} at {}: {}",
            self.feature,
            self.entity,
            crate::row::time::iso8601(self.at),
            self.error
        )
    }
}

impl std::error::Error for FeatureError {}
