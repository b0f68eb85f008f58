//! The core's errors as data: why a push was not acknowledged (`PushError`), why a
//! read was refused (`ReadError`), why the state could not be opened, copied or
//! checkpointed (`StateError`). No transport in them: the API maps them to HTTP
//! (`api::refusal`), the Python package to its exceptions, `featc serve` prints them.

use featc_runtime::stream::StreamError;

use super::future::FutureEvent;
use crate::durable::DurableError;

/// Why a push was not acknowledged. Nothing of it was applied, except where a
/// variant says otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum PushError {
    /// No source has this name (with the closest source name).
    UnknownSource {
        name: String,
        suggestion: Option<String>,
    },
    /// The push has a column its source does not declare (with the closest declared
    /// name): refused, or a typo would be dropped without a word.
    UndeclaredColumn {
        source: String,
        column: String,
        suggestion: Option<String>,
    },
    /// The runtime refused the batch (its error names the column and the row; boxed,
    /// as it is large and every `Result` of a push carries its size).
    Refused {
        source: String,
        error: Box<StreamError>,
    },
    /// Rows whose event time is past `--max-future` ahead of the wall clock (boxed,
    /// as `Refused` is).
    FutureEvent(Box<FutureEvent>),
    /// The state directory failed (the log append): the push was not acknowledged and
    /// nothing of it was applied. (A checkpoint failing after a push was applied is
    /// never the push's error: see `EmbeddedStore::checkpoint_error`.)
    Storage(DurableError),
    /// The push repeats the idempotency key of a push that was refused.
    FirstRefused,
    /// The writer has stopped (the server is shutting down).
    Stopped,
}

impl std::fmt::Display for PushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The runtime's own words for an unknown source (what the embedded store
            // always said).
            PushError::UnknownSource { name, .. } => {
                write!(f, "{}", StreamError::UnknownSource(name.clone()))
            }
            PushError::UndeclaredColumn {
                source,
                column,
                suggestion,
            } => {
                write!(
                    f,
                    "the push has a column `{column}` that source `{source}` does not declare"
                )?;
                match suggestion {
                    Some(s) => write!(f, " (did you mean `{s}`?)"),
                    None => Ok(()),
                }
            }
            PushError::Refused { error, .. } => write!(f, "{error}"),
            PushError::FutureEvent(e) => write!(f, "{e}"),
            PushError::Storage(e) => write!(f, "{e}"),
            PushError::FirstRefused => {
                write!(f, "the first push with this Idempotency-Key was refused")
            }
            PushError::Stopped => write!(f, "the writer stopped"),
        }
    }
}

impl std::error::Error for PushError {}

/// Why a read was refused; nothing of it was answered.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadError {
    /// The read time is before what the state can still answer (µs).
    BeforeHorizon { at: i64, horizon: i64 },
    /// The runtime refused the read, or its rows (a missing column, a column of
    /// another type): its error names the column.
    Refused(StreamError),
}

impl From<StreamError> for ReadError {
    fn from(e: StreamError) -> ReadError {
        match e {
            StreamError::ReadBeforeHorizon { at, horizon } => {
                ReadError::BeforeHorizon { at, horizon }
            }
            other => ReadError::Refused(other),
        }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The runtime's own words (what the embedded store always said).
            ReadError::BeforeHorizon { at, horizon } => write!(
                f,
                "{}",
                StreamError::ReadBeforeHorizon {
                    at: *at,
                    horizon: *horizon
                }
            ),
            ReadError::Refused(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Why the state could not be opened, copied, loaded with history or checkpointed.
#[derive(Debug, Clone, PartialEq)]
pub enum StateError {
    /// The state directory (or a snapshot of the state) failed or is not usable.
    Durable(DurableError),
    /// The runtime refused the graph or options, or a batch of history.
    Runtime(StreamError),
    /// The thread building the state's second copy died.
    CopyFailed,
    /// The writer has stopped.
    WriterStopped,
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::Durable(e) => write!(f, "{e}"),
            StateError::Runtime(e) => write!(f, "{e}"),
            StateError::CopyFailed => {
                write!(f, "the thread loading the state's second copy failed")
            }
            StateError::WriterStopped => write!(f, "the writer stopped"),
        }
    }
}

impl std::error::Error for StateError {}

impl From<DurableError> for StateError {
    fn from(e: DurableError) -> StateError {
        StateError::Durable(e)
    }
}

impl From<StreamError> for StateError {
    fn from(e: StreamError) -> StateError {
        StateError::Runtime(e)
    }
}
