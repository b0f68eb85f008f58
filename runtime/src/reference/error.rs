//! The errors of the reference interpreter: data that does not fit the project, and
//! evaluation errors (integer overflow) naming the source and row that caused them.

use std::fmt;

use super::EvalError;

/// Everything that can stop `evaluate`. Rows are 0-based offsets over all the
/// batches of a source (or of the spine), in the order they were given.
#[derive(Debug, Clone, PartialEq)]
pub enum ReferenceError {
    /// A view reads a source that is not in the `sources` map.
    MissingSource { source: String },
    /// A requested feature id does not exist in the project.
    UnknownFeature(String),
    /// The spine was given as zero batches, so its schema is unknown.
    EmptySpine,
    /// A column the project needs is not in a batch of `table` (a source name or "spine").
    MissingColumn { table: String, column: String },
    /// A struct or map path that cannot be read at a row (a wrong type inside the
    /// struct, text that is not JSON, a map over the cap).
    BadPath {
        table: String,
        column: String,
        row: usize,
        message: String,
    },
    /// A column's Arrow type cannot hold the declared type.
    BadColumnType {
        table: String,
        column: String,
        expected: String,
        found: String,
    },
    /// A null in a column that the project declares non-nullable (or a time column).
    NullInColumn {
        table: String,
        column: String,
        row: usize,
    },
    /// An integer time, with no `epoch` unit declared, that is not 16-digit
    /// microseconds (semantics.md, "Time").
    ImplausibleTime {
        table: String,
        column: String,
        row: usize,
        value: i64,
    },
    /// A timestamp that does not fit int64 microseconds.
    TimeOutOfRange {
        table: String,
        column: String,
        row: usize,
    },
    /// A date column's value that is not a date of 0001-01-01 to 9999-12-31 (a
    /// `Date64` with a time of day, or a day out of range; semantics.md "Dates").
    BadDate {
        table: String,
        column: String,
        row: usize,
        why: String,
    },
    /// A list cell that is no list of the column's items, or too long.
    BadList {
        table: String,
        column: String,
        row: usize,
        why: String,
    },
    /// A decimal column's value that does not fit its type exactly (semantics.md
    /// "Decimals").
    BadDecimal {
        table: String,
        column: String,
        row: usize,
        why: String,
    },
    /// A per-row expression failed (integer overflow, type error).
    Eval {
        source: String,
        row: usize,
        /// The event's time (µs), not shown: what a path comparing failures reads.
        at: Option<i64>,
        context: String,
        message: EvalError,
    },
    /// An aggregation failed (integer sum overflow) for a spine row.
    Aggregate {
        feature: String,
        spine_row: usize,
        message: EvalError,
    },
    /// Arrow refused an operation (concatenating spine batches, building the output).
    Arrow(String),
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReferenceError::MissingSource { source } => {
                write!(f, "no data was given for source `{source}`")
            }
            ReferenceError::UnknownFeature(id) => {
                write!(f, "feature id {id} is not in the project")
            }
            ReferenceError::EmptySpine => write!(f, "the spine has no batches"),
            ReferenceError::MissingColumn { table, column } => {
                write!(f, "{table}: column `{column}` is missing")
            }
            ReferenceError::BadPath {
                table,
                column,
                row,
                message,
            } => write!(f, "{table}: column `{column}` at row {row}: {message}"),
            ReferenceError::BadColumnType {
                table,
                column,
                expected,
                found,
            } => {
                write!(
                    f,
                    "{table}: column `{column}` has type {found}, expected {expected}"
                )
            }
            ReferenceError::NullInColumn { table, column, row } => {
                write!(
                    f,
                    "{table}: row {row}: column `{column}` is null but declared non-null"
                )
            }
            ReferenceError::ImplausibleTime {
                table,
                column,
                row,
                value,
            } => write!(
                f,
                "{table}: row {row}: column `{column}` holds the integer time {value}, not 16-digit microseconds: declare the source's `epoch` unit"
            ),
            ReferenceError::TimeOutOfRange { table, column, row } => {
                write!(
                    f,
                    "{table}: row {row}: column `{column}` is out of the microsecond range"
                )
            }
            ReferenceError::BadDate {
                table,
                column,
                row,
                why,
            }
            | ReferenceError::BadDecimal {
                table,
                column,
                row,
                why,
            } => write!(f, "{table}: row {row}: column `{column}` {why}"),
            ReferenceError::BadList {
                table,
                column,
                row,
                why,
            } => write!(f, "{table}: row {row}: column `{column}`: {why}"),
            ReferenceError::Eval {
                source,
                row,
                context,
                message,
                ..
            } => {
                write!(f, "{source}: row {row}: {context}: {message}")
            }
            ReferenceError::Aggregate {
                feature,
                spine_row,
                message,
            } => {
                write!(f, "feature `{feature}`, spine row {spine_row}: {message}")
            }
            ReferenceError::Arrow(message) => write!(f, "arrow: {message}"),
        }
    }
}

impl std::error::Error for ReferenceError {}
