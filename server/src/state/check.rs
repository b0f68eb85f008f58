//! Checking a push before anything of it is logged or applied: its source exists, it
//! carries no column the source does not declare, and the runtime takes every row
//! (types, nullability, every expression on every row), and no event time is past
//! the `--max-future` bound ahead of the wall clock (`future`). Done on an empty
//! runtime of the same graph, so it never touches the state and runs on any thread:
//! the HTTP handlers, the Kafka consumer (on decoded records) and the embedded store
//! all check here. Only a `CheckedPush` can be committed (`Ledger::commit`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, TimestampMicrosecondArray};
use datafusion::arrow::record_batch::RecordBatch;
use featc_runtime::ir::DataType;
use featc_runtime::row::conform_in;
use featc_runtime::stream::{Options, StreamError, StreamGraph, StreamRuntime};

use super::error::PushError;
use super::future::{beyond, FutureCounts, FutureEvent};
use crate::names::{Names, SourceEntry};
use crate::wire::time::now_us;

/// The checker: an empty runtime of the state's graph, the names, the future bound
/// and what it refused.
pub struct PushCheck {
    checker: StreamRuntime,
    names: Arc<Names>,
    max_future_us: i64,
    future: FutureCounts,
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
    /// The checker of `graph`'s pushes; an event more than `max_future_us` ahead of
    /// the wall clock is refused.
    pub fn new(
        graph: &StreamGraph,
        options: Options,
        names: Arc<Names>,
        max_future_us: i64,
    ) -> Result<PushCheck, StreamError> {
        Ok(PushCheck {
            checker: StreamRuntime::with_options(graph.clone(), options)?,
            future: FutureCounts::new(&names),
            names,
            max_future_us,
        })
    }

    /// Rows refused past the future bound, by source.
    pub fn future_counts(&self) -> &FutureCounts {
        &self.future
    }

    pub fn names(&self) -> &Arc<Names> {
        &self.names
    }

    /// Checks `batch` as a push to `source` (see the module docs), against the wall
    /// clock now.
    pub fn check(&self, source: &str, batch: RecordBatch) -> Result<CheckedPush, PushError> {
        self.check_at(source, batch, now_us())
    }

    /// `check` with `now` (µs since the epoch) as the wall clock's reading.
    pub fn check_at(
        &self,
        source: &str,
        batch: RecordBatch,
        now: i64,
    ) -> Result<CheckedPush, PushError> {
        let entry = self
            .names
            .source(source)
            .map_err(|suggestion| PushError::UnknownSource {
                name: source.to_string(),
                suggestion,
            })?;
        // A batch may hold a path's flat column (`address.city`), as a JSON push and
        // a Kafka record are turned into; the runtime takes it as the path's values.
        let columns = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .filter(|name| !entry.paths.iter().any(|p| p.name == *name));
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
        self.refuse_future(entry, &batch, now)?;
        Ok(CheckedPush {
            source: entry.name.clone(),
            key: None,
            batch,
        })
    }

    /// Refuses the batch when an event time is past the bound, counting every such
    /// row (the runtime took the batch, so its time column is there, of a time type,
    /// without nulls).
    fn refuse_future(
        &self,
        entry: &SourceEntry,
        batch: &RecordBatch,
        now: i64,
    ) -> Result<(), PushError> {
        let column = &entry.time_column;
        let Some(array) = batch.column_by_name(column) else {
            return Ok(());
        };
        let refused = |error: StreamError| PushError::Refused {
            source: entry.name.clone(),
            error: Box::new(error),
        };
        let times = conform_in(array, DataType::Timestamp, column, entry.epoch).map_err(|e| {
            refused(StreamError::ColumnType {
                table: entry.name.clone(),
                column: e.column,
                message: e.message,
            })
        })?;
        let Some(times) = times.as_any().downcast_ref::<TimestampMicrosecondArray>() else {
            return Ok(());
        };
        let rows = beyond(times.values(), now, self.max_future_us);
        if rows.is_empty() {
            return Ok(());
        }
        self.future.add(&entry.name, rows.len());
        Err(PushError::FutureEvent(Box::new(FutureEvent {
            source: entry.name.clone(),
            column: column.clone(),
            rows,
            max_future_us: self.max_future_us,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{clicks, opened};
    use super::*;
    use crate::config::DEFAULT_MAX_FUTURE_US;

    #[test]
    fn an_event_past_the_future_bound_is_refused_and_counted() {
        let (_, _, check) = opened(None);
        let now = 1_700_000_000_000_000;
        let edge = now + DEFAULT_MAX_FUTURE_US;
        let at_edge = clicks(&[(now, 1, 1.0), (edge, 1, 1.0)]);
        assert!(check.check_at("clicks", at_edge, now).is_ok());
        let past = clicks(&[(now, 1, 1.0), (edge + 1, 1, 1.0), (i64::MAX, 2, 1.0)]);
        match check.check_at("clicks", past, now) {
            Err(PushError::FutureEvent(e)) => {
                assert_eq!(e.column, "ts");
                assert_eq!(e.rows, vec![(1, edge + 1), (2, i64::MAX)]);
                assert!(e.to_string().contains("more than 1h ahead"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        let counts: Vec<(&str, u64)> = check.future_counts().by_source().collect();
        assert_eq!(counts, vec![("clicks", 2)]);
    }
}
