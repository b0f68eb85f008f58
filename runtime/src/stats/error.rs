//! What can go wrong computing statistics, as data; rendered in one place (`Display`).

use std::fmt;

use datafusion::arrow::error::ArrowError;

#[derive(Debug)]
pub enum StatsError {
    /// `--features` or `--exclude` names a column the table does not have.
    UnknownColumn {
        table: String,
        column: String,
        found: Vec<String>,
    },
    /// A column could not be converted to the type its statistics are kept in.
    Convert {
        table: String,
        column: String,
        error: ArrowError,
    },
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatsError::UnknownColumn {
                table,
                column,
                found,
            } => write!(
                f,
                "{table}: no column `{column}` (it has: {})",
                found.join(", ")
            ),
            StatsError::Convert {
                table,
                column,
                error,
            } => write!(f, "{table}: column `{column}`: {error}"),
        }
    }
}

impl std::error::Error for StatsError {}
