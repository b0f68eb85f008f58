//! Why an audit could not run (a finding of the audit is never an error: it is in
//! the report).

use std::path::PathBuf;

use crate::job::JobError;
use crate::lower::groups::GroupingError;

#[derive(Debug)]
pub enum AuditError {
    /// The served log (a folder or a file) cannot be listed, or a file of it read:
    /// the path and the system's or the Parquet reader's reason.
    Log { path: PathBuf, message: String },
    /// No complete served-log file (`served-*.parquet`) at the path.
    NoLog(PathBuf),
    /// A file of the log lacks a column the audit needs (a read time, or a key or
    /// request field that a logged feature reads).
    MissingColumn {
        path: PathBuf,
        column: String,
        why: String,
    },
    /// Recomputing the logged reads failed (the training-set job's error: a source
    /// that cannot be read, a bad cell...).
    Job(JobError),
    /// Today's features cannot be planned (their meanings are compared).
    Grouping(GroupingError),
}

impl std::fmt::Display for AuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditError::Log { path, message } => {
                write!(f, "served log `{}`: {message}", path.display())
            }
            AuditError::NoLog(path) => write!(
                f,
                "`{}` holds no complete served-log file (served-*.parquet, written by `featc serve --log-served`)",
                path.display()
            ),
            AuditError::MissingColumn { path, column, why } => write!(
                f,
                "served log `{}` has no column `{column}` ({why})",
                path.display()
            ),
            AuditError::Job(e) => write!(f, "recomputing the served reads: {e}"),
            AuditError::Grouping(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AuditError {}

impl AuditError {
    /// Arrow failed on the served rows held in memory (its message).
    pub fn rows(message: impl std::fmt::Display) -> AuditError {
        AuditError::Log {
            path: PathBuf::from("(served rows)"),
            message: message.to_string(),
        }
    }
}

impl From<JobError> for AuditError {
    fn from(e: JobError) -> AuditError {
        AuditError::Job(e)
    }
}
