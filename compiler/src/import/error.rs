//! Why a spec could not be imported: each error names the feature, source or column
//! at fault.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum ImportError {
    /// The spec is not valid JSON of the expected shape.
    Json(String),
    /// A feature entry is inconsistent (unknown aggregation, missing column, bad window).
    Feature { feature: String, message: String },
    /// A `where` or `count_if` predicate is not in the supported SQL subset.
    Predicate {
        feature: String,
        text: String,
        message: String,
    },
    /// A feature reads a source whose schema was not given.
    MissingSource { feature: String, source: String },
    /// A column a feature needs is not in its source's data.
    MissingColumn {
        feature: String,
        source: String,
        column: String,
    },
    /// A source's data has no `ts` column, or a column of a type featc cannot read.
    Schema { source: String, message: String },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Json(m) => write!(f, "the spec is not a JSON list of features: {m}"),
            ImportError::Feature { feature, message } => {
                write!(f, "feature `{feature}`: {message}")
            }
            ImportError::Predicate {
                feature,
                text,
                message,
            } => {
                write!(
                    f,
                    "feature `{feature}`: cannot translate the predicate `{text}`: {message}"
                )
            }
            ImportError::MissingSource { feature, source } => {
                write!(
                    f,
                    "feature `{feature}` reads source `{source}`, whose data was not found"
                )
            }
            ImportError::MissingColumn {
                feature,
                source,
                column,
            } => {
                write!(
                    f,
                    "feature `{feature}`: column `{column}` is not in source `{source}`"
                )
            }
            ImportError::Schema { source, message } => write!(f, "source `{source}`: {message}"),
        }
    }
}

impl std::error::Error for ImportError {}
