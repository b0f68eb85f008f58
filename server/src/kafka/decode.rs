//! Kafka records of one partition of a source's topic into a batch of its declared
//! columns: each record is (or its format, `format`, turns it into)
//! one JSON object keyed by column names (the time column as RFC 3339 or an integer
//! in the source's `epoch` unit, plausible microseconds without one, values as in a
//! push). A record that does not decode, or that the
//! push check refuses (a null key column, an expression that fails on it, an event
//! time past `--max-future` ahead of the wall clock), is dead-lettered with its topic,
//! partition and offset; the others are kept, checked. The round the writer logs
//! holds only the kept rows (and the dead records in its note), and replay applies
//! the log without checking again: whatever the wall clock at a restart, the same
//! records count.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use featc_runtime::ir::{ColumnPath, DataType};
use featc_runtime::row::nested_column::json_path;
use featc_runtime::row::types::{arrow_type, UTC};
use featc_runtime::stream::StreamError;
use featc_runtime::value::Value;
use serde_json::Value as Json;

use super::format::RecordFormat;
use super::json_keys::JsonKeys;
use crate::durable::{DeadLetter, DeadReason};
use crate::names::SourceEntry;
use crate::state::{CheckedPush, PushCheck, PushError};
use crate::wire::json::{to_array, to_value_in};

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
    /// Past the future bound, or invalid (records listed before kinds were kept
    /// read as invalid).
    #[serde(default = "invalid")]
    pub kind: DeadReason,
}

fn invalid() -> DeadReason {
    INVALID
}

const INVALID: DeadReason = DeadReason::Invalid;

impl DeadRecord {
    /// The record as the dead-letter store keeps it: where it was read as its origin
    /// (`{"kafka": {"topic", "partition", "offset"}}`), its value as the event.
    pub fn into_letter(self) -> DeadLetter {
        DeadLetter {
            source: self.source,
            reason: self.kind,
            detail: self.reason,
            origin: serde_json::json!({ "kafka": self.at }),
            event: Json::String(self.payload),
        }
    }
}

/// Why the records taken could not go to the state as one batch.
enum Refusal {
    /// Making the batch failed (not expected: every cell was checked when pushed).
    Batch(String),
    /// The check refused it.
    Check(PushError),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Batch(m) => write!(f, "{m}"),
            Refusal::Check(e) => write!(f, "{e}"),
        }
    }
}

/// The rows the check refused, and why, when it refused rows' data (one bad value,
/// or every event past the future bound), in row order.
fn refused_rows(refusal: &Refusal) -> Option<Vec<(usize, DeadReason, String)>> {
    let Refusal::Check(e) = refusal else {
        return None;
    };
    match e {
        PushError::Refused { error, .. } => match error.as_ref() {
            StreamError::Data {
                row,
                message,
                column,
                ..
            } => Some(vec![(
                *row,
                DeadReason::Invalid,
                format!("column `{column}`: {message}"),
            )]),
            _ => None,
        },
        PushError::FutureEvent(future) => Some(
            future
                .rows
                .iter()
                .map(|&(row, time)| (row, DeadReason::Future, future.reason(time)))
                .collect(),
        ),
        _ => None,
    }
}

/// A column's values as its records are taken: a scalar column's straight into its
/// Arrow builder (the value `to_value_in` checked, appended as `to_array` appends
/// it), so that no JSON cell is kept per record; a list or decimal column's as the
/// JSON cells `to_array` makes its array from.
enum Cells {
    Int64(Int64Builder),
    Float64(Float64Builder),
    Bool(BooleanBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Date(Date32Builder),
    String(StringBuilder),
    Json(Vec<Json>),
}

impl Cells {
    fn new(ty: DataType) -> Cells {
        match ty {
            DataType::Int64 => Cells::Int64(Int64Builder::new()),
            DataType::Float64 => Cells::Float64(Float64Builder::new()),
            DataType::Bool => Cells::Bool(BooleanBuilder::new()),
            DataType::Timestamp => {
                Cells::Timestamp(TimestampMicrosecondBuilder::new().with_timezone(UTC))
            }
            DataType::Date => Cells::Date(Date32Builder::new()),
            DataType::String => Cells::String(StringBuilder::new()),
            _ => Cells::Json(Vec::new()),
        }
    }

    /// Whether the column keeps JSON cells (then `push` wants the cell).
    fn wants_json(&self) -> bool {
        matches!(self, Cells::Json(_))
    }

    /// Appends a checked record's value (`value` from `to_value_in`, or `cell` for
    /// a column of JSON cells).
    fn push(&mut self, value: Value, cell: Option<Json>) {
        match (self, value) {
            (Cells::Int64(b), Value::Int64(v)) => b.append_value(v),
            (Cells::Int64(b), _) => b.append_null(),
            (Cells::Float64(b), Value::Float64(v)) => b.append_value(v),
            (Cells::Float64(b), _) => b.append_null(),
            (Cells::Bool(b), Value::Bool(v)) => b.append_value(v),
            (Cells::Bool(b), _) => b.append_null(),
            (Cells::Timestamp(b), Value::Timestamp(v)) => b.append_value(v),
            (Cells::Timestamp(b), _) => b.append_null(),
            (Cells::Date(b), Value::Date(v)) => b.append_value(v),
            (Cells::Date(b), _) => b.append_null(),
            (Cells::String(b), Value::String(v)) => b.append_value(&*v),
            (Cells::String(b), _) => b.append_null(),
            (Cells::Json(cells), _) => cells.push(cell.unwrap_or(Json::Null)),
        }
    }

    /// The column's array (the builder emptied).
    fn finish(
        &mut self,
        ty: DataType,
        epoch: Option<featc_runtime::ir::EpochUnit>,
    ) -> Result<ArrayRef, String> {
        Ok(match self {
            Cells::Int64(b) => Arc::new(b.finish()),
            Cells::Float64(b) => Arc::new(b.finish()),
            Cells::Bool(b) => Arc::new(b.finish()),
            Cells::Timestamp(b) => Arc::new(b.finish()),
            Cells::Date(b) => Arc::new(b.finish()),
            Cells::String(b) => Arc::new(b.finish()),
            Cells::Json(cells) => {
                to_array(cells, ty, epoch).map_err(|(row, e)| format!("row {row}: {e}"))?
            }
        })
    }
}

/// How much of a dead record's value is kept.
pub const PAYLOAD_BYTES: usize = 1024;

/// Collects one partition's records for its source, column by column.
pub struct Decoder<'a> {
    source: &'a SourceEntry,
    format: &'a RecordFormat,
    topic: &'a str,
    pub partition: i32,
    /// Time column first, then the declared columns, then the paths read out of
    /// struct and map columns: (name, type, nullable, path).
    columns: Vec<(&'a str, DataType, bool, Option<&'a ColumnPath>)>,
    /// The record's keys the columns read: each column's name and, for a path, its
    /// struct or map column; a record is read into `slots`, one per key.
    keys: JsonKeys,
    /// Per column: the slot of its name, and of its path's column.
    slot_of: Vec<(usize, Option<usize>)>,
    slots: Vec<Option<Json>>,
    /// A path's leaf per column while a record is checked (reused).
    leaves: Vec<Option<Json>>,
    /// Each column's value while a record is checked (reused).
    values: Vec<Value>,
    cells: Vec<Cells>,
    /// The offsets of the records taken, in order.
    offsets: Vec<i64>,
    /// The values of the records taken, one after the other (kept for the
    /// dead-letter store, should the check refuse a row), `ends` where each stops:
    /// one buffer rather than one allocation per record.
    payloads: Vec<u8>,
    ends: Vec<usize>,
    /// The offset after the last record pushed (taken or dead-lettered).
    pub next_offset: i64,
    pub dead: Vec<DeadRecord>,
}

impl<'a> Decoder<'a> {
    pub fn new(
        source: &'a SourceEntry,
        format: &'a RecordFormat,
        topic: &'a str,
        partition: i32,
    ) -> Decoder<'a> {
        let columns: Vec<(&str, DataType, bool, Option<&ColumnPath>)> = std::iter::once((
            source.time_column.as_str(),
            DataType::Timestamp,
            false,
            None,
        ))
        .chain(
            source
                .columns
                .iter()
                .map(|(n, t, b)| (n.as_str(), *t, *b, None)),
        )
        .chain(
            source
                .paths
                .iter()
                .map(|p| (p.name.as_str(), p.ty, p.nullable, Some(&p.path))),
        )
        .collect();
        let keys = JsonKeys::new(columns.iter().flat_map(|&(name, _, _, path)| {
            std::iter::once(name).chain(path.map(|p| p.physical.as_str()))
        }));
        let slot = |name: &str| keys.index(name).unwrap_or_default();
        let slot_of = columns
            .iter()
            .map(|&(name, _, _, path)| (slot(name), path.map(|p| slot(&p.physical))))
            .collect();
        Decoder {
            source,
            format,
            topic,
            partition,
            cells: columns.iter().map(|c| Cells::new(c.1)).collect(),
            leaves: vec![None; columns.len()],
            values: Vec::with_capacity(columns.len()),
            slots: Vec::with_capacity(keys.len()),
            slot_of,
            keys,
            columns,
            offsets: Vec::new(),
            payloads: Vec::new(),
            ends: Vec::new(),
            next_offset: 0,
            dead: Vec::new(),
        }
    }

    /// The topic its records were read from.
    pub fn topic(&self) -> &str {
        self.topic
    }

    pub fn source_name(&self) -> &str {
        &self.source.name
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    fn bury(&mut self, offset: i64, payload: &[u8], kind: DeadReason, reason: String) {
        let shown = &payload[..payload.len().min(PAYLOAD_BYTES)];
        self.dead.push(DeadRecord {
            at: RecordAt {
                topic: self.topic.to_string(),
                partition: self.partition,
                offset,
            },
            source: self.source.name.clone(),
            reason,
            payload: String::from_utf8_lossy(shown).into_owned(),
            kind,
        });
    }

    /// Adds the record at `offset` (its value bytes), or dead-letters it.
    pub fn push(&mut self, offset: i64, payload: Option<&[u8]>) {
        self.next_offset = offset + 1;
        let Some(payload) = payload else {
            return self.bury(offset, &[], INVALID, "the record has no value".into());
        };
        // The record's values of the keys read: a JSON record parsed straight into
        // them, another format's object moved into them.
        let read = match self.format {
            RecordFormat::Json => self.keys.read(payload, &mut self.slots),
            other => other
                .object(payload)
                .map(|o| self.keys.take(o, &mut self.slots)),
        };
        if let Err(reason) = read {
            return self.bury(offset, payload, INVALID, reason.0);
        }
        const NULL: Json = Json::Null;
        self.values.clear();
        for (i, &(name, ty, nullable, path)) in self.columns.iter().enumerate() {
            let (at, physical) = self.slot_of[i];
            let cell = match (path, physical) {
                (Some(p), Some(physical)) => {
                    // A path out of a struct or map column: the one JSON reading
                    // every path uses (`row::nested_column::json_path`).
                    let whole = self.slots[physical].as_ref().unwrap_or(&NULL);
                    match json_path(whole, &p.steps) {
                        Ok(leaf) => &*self.leaves[i].insert(leaf),
                        Err(message) => {
                            let reason = format!("column `{}` (`{name}`): {message}", p.physical);
                            return self.bury(offset, payload, INVALID, reason);
                        }
                    }
                }
                _ => self.slots[at].as_ref().unwrap_or(&NULL),
            };
            match to_value_in(cell, ty, self.source.epoch) {
                Err(message) => {
                    return self.bury(
                        offset,
                        payload,
                        INVALID,
                        format!("column `{name}`: {message}"),
                    )
                }
                Ok(v) if v.is_null() && !nullable => {
                    let why = if self.slots[at].is_some() {
                        "is null"
                    } else {
                        "is missing"
                    };
                    return self.bury(
                        offset,
                        payload,
                        INVALID,
                        format!("column `{name}` {why} but is not nullable"),
                    );
                }
                Ok(v) => self.values.push(v),
            }
        }
        // Every column checked: the values go into the columns; a column of JSON
        // cells takes a flat column's out of its slot (each flat column's name is
        // its own), a path's leaf out of `leaves`.
        for (i, (column, value)) in self.cells.iter_mut().zip(self.values.drain(..)).enumerate() {
            let cell = match column.wants_json() {
                false => None,
                true => {
                    let (at, physical) = self.slot_of[i];
                    match physical {
                        Some(_) => self.leaves[i].take(),
                        None => self.slots[at].take(),
                    }
                }
            };
            column.push(value, cell);
        }
        self.offsets.push(offset);
        self.payloads.extend_from_slice(payload);
        self.ends.push(self.payloads.len());
    }

    /// The records taken so far as one batch, checked as a push is (`check` holds
    /// no state): a row it refuses is dead-lettered and the batch made again without
    /// them. Returns the checked batch and the dead records.
    pub fn finish(mut self, check: &PushCheck) -> (Option<CheckedPush>, Vec<DeadRecord>) {
        if self.offsets.is_empty() {
            return (None, self.dead);
        }
        // Every cell was checked when pushed, so making the batch does not fail.
        let mut batch = match self.batch() {
            Ok(b) => b,
            Err(refusal) => {
                self.bury_all(refusal.to_string());
                return (None, self.dead);
            }
        };
        loop {
            if self.offsets.is_empty() {
                return (None, self.dead);
            }
            let refusal = match check.check(&self.source.name, batch.clone()) {
                Ok(checked) => return (Some(checked), self.dead),
                Err(e) => Refusal::Check(e),
            };
            match refused_rows(&refusal) {
                Some(rows) if !rows.is_empty() && rows.iter().all(|r| r.0 < self.offsets.len()) => {
                    // The batch without the refused rows, checked again.
                    let keep = self.remove(rows);
                    match filter_record_batch(&batch, &keep) {
                        Ok(b) => batch = b,
                        Err(e) => {
                            self.bury_all(e.to_string());
                            return (None, self.dead);
                        }
                    }
                }
                _ => {
                    self.bury_all(refusal.to_string());
                    return (None, self.dead);
                }
            }
        }
    }

    /// Dead-letters every record taken so far, for `reason`.
    fn bury_all(&mut self, reason: String) {
        let offsets = std::mem::take(&mut self.offsets);
        let payloads = std::mem::take(&mut self.payloads);
        let ends = std::mem::take(&mut self.ends);
        let mut start = 0;
        for (offset, end) in offsets.into_iter().zip(ends) {
            self.bury(offset, &payloads[start..end], INVALID, reason.clone());
            start = end;
        }
    }

    /// Dead-letters `rows` (in row order, each below `len()`), each for its reason,
    /// in one pass (a round may hold many such rows); returns the rows kept, the
    /// filter of the batch.
    fn remove(&mut self, rows: Vec<(usize, DeadReason, String)>) -> BooleanArray {
        let mut dropped = vec![false; self.offsets.len()];
        for (row, _, _) in &rows {
            dropped[*row] = true;
        }
        let offsets = std::mem::take(&mut self.offsets);
        let payloads = std::mem::take(&mut self.payloads);
        let ends = std::mem::take(&mut self.ends);
        let mut reasons = rows.into_iter().map(|(_, kind, reason)| (kind, reason));
        let mut start = 0;
        for (row, (offset, end)) in offsets.into_iter().zip(ends).enumerate() {
            let payload = &payloads[start..end];
            start = end;
            match dropped[row] {
                true => {
                    let (kind, reason) = reasons.next().unwrap_or((INVALID, String::new()));
                    self.bury(offset, payload, kind, reason);
                }
                false => {
                    self.offsets.push(offset);
                    self.payloads.extend_from_slice(payload);
                    self.ends.push(self.payloads.len());
                }
            }
        }
        dropped.iter().map(|d| Some(!d)).collect()
    }

    /// The records taken as one batch (once: the columns' builders are emptied).
    fn batch(&mut self) -> Result<RecordBatch, Refusal> {
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for (&(name, ty, nullable, _), cells) in self.columns.iter().zip(&mut self.cells) {
            let array = cells
                .finish(ty, self.source.epoch)
                .map_err(Refusal::Batch)?;
            fields.push(Field::new(name, arrow_type(ty), nullable));
            arrays.push(array);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(self.offsets.len()));
        RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
            .map_err(|e| Refusal::Batch(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{Float64Type, Int64Type};
    use featc_runtime::ir::{ColumnPath, PathStep};

    use super::*;
    use crate::names::PathEntry;

    /// `orders(ts, user_id, address: struct<city>, attrs: map<string, float64>)` with
    /// the paths `address.city`, `attrs['color']` and `size(attrs)` read.
    fn orders() -> SourceEntry {
        let path = |name: &str, physical: &str, steps: Vec<PathStep>, ty| PathEntry {
            name: name.into(),
            path: ColumnPath {
                physical: physical.into(),
                steps,
            },
            ty,
            nullable: true,
        };
        SourceEntry {
            name: "orders".into(),
            time_column: "ts".into(),
            columns: vec![("user_id".into(), DataType::Int64, false)],
            nested: vec!["address".into(), "attrs".into()],
            paths: vec![
                path(
                    "address.city",
                    "address",
                    vec![PathStep::Field("city".into())],
                    DataType::String,
                ),
                path(
                    "attrs['color']",
                    "attrs",
                    vec![PathStep::Key("color".into())],
                    DataType::Float64,
                ),
                path(
                    "size(attrs)",
                    "attrs",
                    vec![PathStep::Size],
                    DataType::Int64,
                ),
            ],
            epoch: None,
        }
    }

    #[test]
    fn a_record_s_struct_and_map_are_read_by_their_paths_and_a_bad_one_is_dead_lettered() {
        let source = orders();
        let mut decoder = Decoder::new(&source, &super::super::format::JSON, "orders", 0);
        let records: [&[u8]; 4] = [
            br#"{"ts": "2024-01-01T00:00:00Z", "user_id": 1, "address": {"city": "Oslo"}, "attrs": {"color": 2.5, "size": 1}}"#,
            br#"{"ts": "2024-01-01T00:00:01Z", "user_id": 1, "address": null, "attrs": {"color": 1, "color": 4.0}}"#,
            br#"{"ts": "2024-01-01T00:00:02Z", "user_id": 2, "address": "Oslo"}"#,
            br#"{"ts": "2024-01-01T00:00:03Z", "user_id": 2}"#,
        ];
        for (offset, record) in records.into_iter().enumerate() {
            decoder.push(offset as i64, Some(record));
        }
        assert_eq!(decoder.len(), 3);
        assert_eq!(decoder.dead.len(), 1);
        let dead = &decoder.dead[0];
        assert_eq!(dead.at.offset, 2);
        assert!(
            dead.reason.contains("column `address`") && dead.reason.contains("a string"),
            "{}",
            dead.reason
        );
        let batch = decoder.batch().unwrap_or_else(|e| panic!("{e}"));
        let city = batch.column_by_name("address.city").expect("address.city");
        let city: Vec<Option<&str>> = city.as_string::<i32>().iter().collect();
        assert_eq!(city, [Some("Oslo"), None, None]);
        let color = batch.column_by_name("attrs['color']").expect("color");
        let color: Vec<Option<f64>> = color.as_primitive::<Float64Type>().iter().collect();
        // The last of a repeated key, as the JSON object parses.
        assert_eq!(color, [Some(2.5), Some(4.0), None]);
        let size = batch.column_by_name("size(attrs)").expect("size");
        assert_eq!(size.null_count(), 1);
        let size: Vec<Option<i64>> = size.as_primitive::<Int64Type>().iter().collect();
        assert_eq!(size, [Some(2), Some(1), None]);
    }
}
