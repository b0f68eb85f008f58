//! How a source's records are encoded (`topic "t" format F`), ready to decode: each
//! format turns a record into the JSON object of the source's columns that a JSON
//! record would be, so every format is read into the columns by the one set of rules
//! (`decode`), and a record that does not decode is dead-lettered with its reason.

use std::collections::HashMap;

use featc_runtime::ir::TopicFormat;
use serde_json::{Map, Value as Json};

use super::avro::AvroRecords;
use super::protobuf::ProtobufRecords;
use super::TopicBinding;
use crate::names::SourceEntry;
use crate::state::PushCheck;
use crate::wire::time::kind_of;

/// Why a record does not decode, or a schema cannot be prepared: the reason, as the
/// dead-letter store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for FormatError {
    fn from(reason: String) -> FormatError {
        FormatError(reason)
    }
}

impl From<&str> for FormatError {
    fn from(reason: &str) -> FormatError {
        FormatError(reason.to_string())
    }
}

/// A format with its schema prepared.
#[derive(Debug)]
pub enum RecordFormat {
    Json,
    Avro(AvroRecords),
    Protobuf(ProtobufRecords),
}

/// JSON: the format of a source without a declared one (group mode's forwarded
/// records are of sources whose topics are JSON).
pub static JSON: RecordFormat = RecordFormat::Json;

impl RecordFormat {
    /// `format` prepared to read `source`'s columns (time, flat and nested).
    pub fn new(format: &TopicFormat, source: &SourceEntry) -> Result<RecordFormat, FormatError> {
        Ok(match format {
            TopicFormat::Json => RecordFormat::Json,
            TopicFormat::Avro(a) => RecordFormat::Avro(AvroRecords::new(a, source.column_names())?),
            TopicFormat::Protobuf(p) => {
                RecordFormat::Protobuf(ProtobufRecords::new(p, source.column_names())?)
            }
        })
    }

    /// The record's columns as a JSON object keyed by column name, or why it does not
    /// decode.
    pub fn object(&self, record: &[u8]) -> Result<Map<String, Json>, FormatError> {
        match self {
            RecordFormat::Json => match serde_json::from_slice::<Json>(record) {
                Ok(Json::Object(o)) => Ok(o),
                Ok(other) => {
                    Err(format!("expected a JSON object, found {}", kind_of(&other)).into())
                }
                Err(e) => Err(format!("not JSON: {e}").into()),
            },
            RecordFormat::Avro(a) => a.object(record),
            RecordFormat::Protobuf(p) => p.object(record),
        }
    }
}

/// The prepared format of each source read from a topic, by source name.
pub type Formats = HashMap<String, RecordFormat>;

/// The formats of `topics`' sources (those the graph reads; others have none).
pub fn formats(topics: &[TopicBinding], check: &PushCheck) -> Result<Formats, FormatError> {
    let mut out = Formats::new();
    for t in topics {
        let Ok(source) = check.names().source(&t.source) else {
            continue;
        };
        let format = RecordFormat::new(&t.format, source)
            .map_err(|e| FormatError(format!("source `{}`: {e}", t.source)))?;
        out.insert(t.source.clone(), format);
    }
    Ok(out)
}
