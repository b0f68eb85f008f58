//! Checking a push before anything of it is logged or applied: its source exists, it
//! carries no column the source does not declare, and the runtime takes every row
//! (types, nullability, every expression on every row). Done on an empty runtime of
//! the same graph, so it never touches the state and runs on any thread: the HTTP
//! handlers, the Kafka consumer (on decoded records) and the embedded store all check
//! here. Only a `CheckedPush` can be committed (`Ledger::commit`).

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::stream::{Options, StreamError, StreamGraph, StreamRuntime};

use super::error::PushError;
use crate::names::Names;

/// The checker: an empty runtime of the state's graph and the names.
pub struct PushCheck {
    checker: StreamRuntime,
    names: Arc<Names>,
}

/// A push that passed `PushCheck::check`: its source's canonical name, the client's
/// idempotency key (if any) and its rows.
#[derive(Debug, Clone)]
pub struct CheckedPush {
    source: String,
    key: Option<String>,
    batch: RecordBatch,
}

impl CheckedPush {
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    pub fn batch(&self) -> &RecordBatch {
        &self.batch
    }

    /// Rows that skipped the check, for tests of what happens should the runtime
    /// refuse a batch after it was logged (which a checked one never is).
    #[cfg(test)]
    pub(in crate::state) fn unchecked_for_tests(source: &str, batch: RecordBatch) -> CheckedPush {
        CheckedPush {
            source: source.to_string(),
            key: None,
            batch,
        }
    }

    /// The same push under the client's idempotency key.
    pub fn with_key(self, key: Option<String>) -> CheckedPush {
        CheckedPush { key, ..self }
    }

    /// The source it pushes to and its checked rows.
    pub fn into_parts(self) -> (String, RecordBatch) {
        (self.source, self.batch)
    }

    /// Source, key and rows, as a record of the log holds them.
    pub(in crate::state) fn into_record(self) -> (String, Option<String>, RecordBatch) {
        (self.source, self.key, self.batch)
    }
}

impl PushCheck {
    pub fn new(
        graph: &StreamGraph,
        options: Options,
        names: Arc<Names>,
    ) -> Result<PushCheck, StreamError> {
        Ok(PushCheck {
            checker: StreamRuntime::with_options(graph.clone(), options)?,
            names,
        })
    }

    pub fn names(&self) -> &Arc<Names> {
        &self.names
    }

    /// Checks `batch` as a push to `source` (see the module docs).
    pub fn check(&self, source: &str, batch: RecordBatch) -> Result<CheckedPush, PushError> {
        let entry = self
            .names
            .source(source)
            .map_err(|suggestion| PushError::UnknownSource {
                name: source.to_string(),
                suggestion,
            })?;
        let columns = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str());
        if let Some((column, suggestion)) = entry.undeclared(columns) {
            return Err(PushError::UndeclaredColumn {
                source: entry.name.clone(),
                column,
                suggestion,
            });
        }
        self.checker
            .check(&entry.name, &batch)
            .map_err(|error| PushError::Refused {
                source: entry.name.clone(),
                error: Box::new(error),
            })?;
        Ok(CheckedPush {
            source: entry.name.clone(),
            key: None,
            batch,
        })
    }
}
