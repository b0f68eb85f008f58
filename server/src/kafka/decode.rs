//! Kafka records of one source into a batch of its declared columns: each record is
//! one JSON object keyed by column names (the time column as RFC 3339 or integer
//! microseconds, values as in a push). A record that does not decode, or that the
//! runtime would refuse (a null key column, an expression that fails on it), is
//! dead-lettered with its topic, partition and offset; the others are kept.

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use featc_runtime::expr::arrow_type;
use featc_runtime::ir::DataType;
use featc_runtime::stream::{StreamError, StreamRuntime};
use serde_json::Value as Json;

use crate::api::values::{to_array, to_value};
use crate::catalog::SourceEntry;

/// Where a record was read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RecordAt {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl std::fmt::Display for RecordAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "topic `{}` partition {} offset {}",
            self.topic, self.partition, self.offset
        )
    }
}

/// A record that was not taken, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeadRecord {
    pub at: RecordAt,
    pub source: String,
    pub reason: String,
    /// The record's value as text (invalid UTF-8 replaced), at most `PAYLOAD_BYTES`.
    pub payload: String,
}

/// How much of a dead record's value is kept.
pub const PAYLOAD_BYTES: usize = 1024;

/// Collects one source's records, column by column.
pub struct Decoder<'a> {
    source: &'a SourceEntry,
    /// Time column first, then the declared columns: (name, type, nullable).
    columns: Vec<(&'a str, DataType, bool)>,
    cells: Vec<Vec<Json>>,
    at: Vec<RecordAt>,
    payloads: Vec<Vec<u8>>,
    pub dead: Vec<DeadRecord>,
}

impl<'a> Decoder<'a> {
    pub fn new(source: &'a SourceEntry) -> Decoder<'a> {
        let columns: Vec<(&str, DataType, bool)> =
            std::iter::once((source.time_column.as_str(), DataType::Timestamp, false))
                .chain(source.columns.iter().map(|(n, t, b)| (n.as_str(), *t, *b)))
                .collect();
        Decoder {
            source,
            cells: vec![Vec::new(); columns.len()],
            columns,
            at: Vec::new(),
            payloads: Vec::new(),
            dead: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    fn bury(&mut self, at: RecordAt, payload: &[u8], reason: String) {
        let shown = &payload[..payload.len().min(PAYLOAD_BYTES)];
        self.dead.push(DeadRecord {
            at,
            source: self.source.name.clone(),
            reason,
            payload: String::from_utf8_lossy(shown).into_owned(),
        });
    }

    /// Adds one record (its value bytes), or dead-letters it.
    pub fn push(&mut self, at: RecordAt, payload: Option<&[u8]>) {
        let Some(payload) = payload else {
            return self.bury(at, &[], "the record has no value".into());
        };
        let object = match serde_json::from_slice::<Json>(payload) {
            Ok(Json::Object(o)) => o,
            Ok(other) => {
                let kind = crate::time::kind_of(&other);
                return self.bury(at, payload, format!("expected a JSON object, found {kind}"));
            }
            Err(e) => return self.bury(at, payload, format!("not JSON: {e}")),
        };
        let mut row = Vec::with_capacity(self.columns.len());
        for &(name, ty, nullable) in &self.columns {
            let cell = object.get(name).cloned().unwrap_or(Json::Null);
            match to_value(&cell, ty) {
                Err(message) => {
                    return self.bury(at, payload, format!("column `{name}`: {message}"))
                }
                Ok(v) if v.is_null() && !nullable => {
                    let why = if object.contains_key(name) {
                        "is null"
                    } else {
                        "is missing"
                    };
                    return self.bury(
                        at,
                        payload,
                        format!("column `{name}` {why} but is not nullable"),
                    );
                }
                Ok(_) => row.push(cell),
            }
        }
        for (column, cell) in self.cells.iter_mut().zip(row) {
            column.push(cell);
        }
        self.at.push(at);
        self.payloads.push(payload.to_vec());
    }

    /// The records taken so far as one batch, after the runtime's own check of every
    /// row (`checker` holds no state): a row it refuses is dead-lettered and the
    /// batch made again without it. Returns the batch and the records in it.
    pub fn finish(mut self, checker: &StreamRuntime) -> (Option<RecordBatch>, Vec<DeadRecord>) {
        loop {
            if self.at.is_empty() {
                return (None, self.dead);
            }
            let batch = match self.batch() {
                Ok(b) => b,
                Err(message) => {
                    // Not expected: every cell was checked when pushed.
                    let all: Vec<RecordAt> = std::mem::take(&mut self.at);
                    let payloads = std::mem::take(&mut self.payloads);
                    for (at, p) in all.into_iter().zip(payloads) {
                        self.bury(at, &p, message.clone());
                    }
                    return (None, self.dead);
                }
            };
            match checker.check(&self.source.name, &batch) {
                Ok(_) => return (Some(batch), self.dead),
                Err(StreamError::Data {
                    row,
                    message,
                    column,
                    ..
                }) if row < self.at.len() => {
                    self.remove(row, format!("column `{column}`: {message}"));
                }
                Err(other) => {
                    let message = other.to_string();
                    let all: Vec<RecordAt> = std::mem::take(&mut self.at);
                    let payloads = std::mem::take(&mut self.payloads);
                    for (at, p) in all.into_iter().zip(payloads) {
                        self.bury(at, &p, message.clone());
                    }
                    return (None, self.dead);
                }
            }
        }
    }

    fn remove(&mut self, row: usize, reason: String) {
        for column in &mut self.cells {
            column.remove(row);
        }
        let at = self.at.remove(row);
        let payload = self.payloads.remove(row);
        self.bury(at, &payload, reason);
    }

    fn batch(&self) -> Result<RecordBatch, String> {
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for (&(name, ty, nullable), cells) in self.columns.iter().zip(&self.cells) {
            let array = to_array(cells, ty).map_err(|(row, m)| format!("row {row}: {m}"))?;
            fields.push(Field::new(name, arrow_type(ty), nullable));
            arrays.push(array);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(self.at.len()));
        RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
            .map_err(|e| e.to_string())
    }
}
