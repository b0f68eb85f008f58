//! Protobuf records (`format protobuf "x.proto" "Message"`): each record one message
//! of the type the compiler checked (or framed by Confluent's header and message
//! indexes first), decoded with prost-reflect from the descriptors the IR holds (no
//! protoc, no generated code) and turned field by field into the JSON value it
//! stands for, so that the columns are read by the JSON records' rules, exactly. A
//! field with presence (`optional`, a message) that is not set is null; one without
//! (a proto3 scalar) is its default, as Protobuf defines it. An enum is its value's
//! name, a `google.protobuf.Timestamp` its instant in RFC 3339, a wrapper
//! (`Int64Value`) the value it wraps, a message an object, a map an object.
//!
//! Bounded: prost checks every length field against the bytes left before it reads.

use crate::wire::json::float_json;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, ReflectMessage, Value,
};
use serde_json::{Map, Value as Json};

use featc_runtime::ir::ProtobufFormat;

use super::confluent;
use super::format::FormatError;
use crate::wire::time::format_time;

/// A topic's message type, ready to decode its records.
#[derive(Debug)]
pub struct ProtobufRecords {
    message: prost_reflect::MessageDescriptor,
    /// The columns read, each with its field.
    fields: Vec<(String, FieldDescriptor)>,
    /// `confluent ID`, and the message's indexes in its file.
    confluent: Option<(u32, Vec<i64>)>,
}

impl ProtobufRecords {
    /// The message of `format`, reading `columns` (each a field, as the compiler
    /// checked).
    pub fn new<'a>(
        format: &ProtobufFormat,
        columns: impl Iterator<Item = &'a str>,
    ) -> Result<ProtobufRecords, FormatError> {
        let pool = DescriptorPool::decode(format.descriptors.as_slice())
            .map_err(|e| format!("the descriptors of `{}`: {e}", format.file))?;
        let message = pool
            .get_message_by_name(&format.message)
            .ok_or_else(|| format!("`{}` has no message `{}`", format.file, format.message))?;
        let mut fields = Vec::new();
        for c in columns {
            let field = message
                .get_field_by_name(c)
                .ok_or_else(|| format!("message `{}` has no field `{c}`", format.message))?;
            fields.push((c.to_string(), field));
        }
        let confluent = format.confluent.map(|id| (id, indexes(&message)));
        Ok(ProtobufRecords {
            message,
            fields,
            confluent,
        })
    }

    /// The record's columns as a JSON object, or why it does not decode.
    pub fn object(&self, record: &[u8]) -> Result<Map<String, Json>, FormatError> {
        let body = match &self.confluent {
            Some((id, path)) => confluent::message_indexes(confluent::unframe(record, *id)?, path)?,
            None => record,
        };
        let message = DynamicMessage::decode(self.message.clone(), body)
            .map_err(|e| format!("not a Protobuf message `{}`: {e}", self.message.full_name()))?;
        let mut object = Map::with_capacity(self.fields.len());
        for (name, field) in &self.fields {
            let cell = match field.supports_presence() && !message.has_field(field) {
                true => Json::Null,
                false => json(&message.get_field(field), &field.kind())
                    .map_err(|e| format!("field `{name}`: {e}"))?,
            };
            object.insert(name.clone(), cell);
        }
        Ok(object)
    }
}

/// The path of `message` in its file: its index among the file's messages, then
/// among its parent's nested ones (Confluent's message indexes).
fn indexes(message: &prost_reflect::MessageDescriptor) -> Vec<i64> {
    let mut path = Vec::new();
    let mut at = message.clone();
    loop {
        let siblings: Vec<_> = match at.parent_message() {
            Some(parent) => parent.child_messages().collect(),
            None => at.parent_file().messages().collect(),
        };
        let i = siblings
            .iter()
            .position(|m| m.full_name() == at.full_name())
            .unwrap_or(0);
        path.push(i as i64);
        match at.parent_message() {
            Some(parent) => at = parent,
            None => break,
        }
    }
    path.reverse();
    path
}

/// The JSON value `value` (of a field of kind `kind`) stands for.
fn json(value: &Value, kind: &Kind) -> Result<Json, String> {
    Ok(match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::I32(i) => Json::from(*i),
        Value::I64(i) => Json::from(*i),
        Value::U32(i) => Json::from(*i),
        Value::U64(i) => Json::from(*i),
        Value::F32(f) => float_json(f64::from(*f)),
        Value::F64(f) => float_json(*f),
        Value::String(s) => Json::String(s.clone()),
        Value::Bytes(_) => return Err("bytes, which no column type holds".into()),
        Value::EnumNumber(n) => match kind {
            Kind::Enum(e) => match e.get_value(*n) {
                Some(v) => Json::from(v.name()),
                None => return Err(format!("{n} is not a value of enum `{}`", e.full_name())),
            },
            _ => Json::from(*n),
        },
        Value::List(items) => Json::Array(
            items
                .iter()
                .map(|v| json(v, kind))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => {
            let value_kind = match kind {
                Kind::Message(entry) => entry.map_entry_value_field().kind(),
                other => other.clone(),
            };
            let mut object = Map::with_capacity(entries.len());
            for (k, v) in entries {
                let key = match k {
                    MapKey::String(s) => s.clone(),
                    MapKey::Bool(b) => b.to_string(),
                    MapKey::I32(i) => i.to_string(),
                    MapKey::I64(i) => i.to_string(),
                    MapKey::U32(i) => i.to_string(),
                    MapKey::U64(i) => i.to_string(),
                };
                object.insert(key, json(v, &value_kind)?);
            }
            Json::Object(object)
        }
        Value::Message(m) => message(m)?,
    })
}

/// A message field's value: a well-known type as the value it stands for, another
/// message as an object of its set fields.
fn message(m: &DynamicMessage) -> Result<Json, String> {
    let descriptor = m.descriptor();
    match descriptor.full_name() {
        "google.protobuf.Timestamp" => {
            let int = |name: &str| match m.get_field_by_name(name).as_deref() {
                Some(Value::I64(i)) => Some(*i),
                Some(Value::I32(i)) => Some(i64::from(*i)),
                _ => None,
            };
            let (seconds, nanos) = (int("seconds").unwrap_or(0), int("nanos").unwrap_or(0));
            if nanos % 1000 != 0 {
                return Err(format!(
                    "a timestamp with nanoseconds ({nanos}), finer than featc's microseconds"
                ));
            }
            let us = seconds
                .checked_mul(1_000_000)
                .and_then(|s| s.checked_add(nanos / 1000))
                .ok_or("a timestamp out of range")?;
            Ok(Json::from(format_time(us)))
        }
        "google.protobuf.Int64Value"
        | "google.protobuf.Int32Value"
        | "google.protobuf.UInt64Value"
        | "google.protobuf.UInt32Value"
        | "google.protobuf.DoubleValue"
        | "google.protobuf.FloatValue"
        | "google.protobuf.StringValue"
        | "google.protobuf.BoolValue" => match descriptor.get_field_by_name("value") {
            Some(f) => json(&m.get_field(&f), &f.kind()),
            None => Ok(Json::Null),
        },
        _ => {
            let mut object = Map::new();
            for f in descriptor.fields() {
                let cell = match f.supports_presence() && !m.has_field(&f) {
                    true => Json::Null,
                    false => json(&m.get_field(&f), &f.kind())
                        .map_err(|e| format!("field `{}`: {e}", f.name()))?,
                };
                object.insert(f.name().to_string(), cell);
            }
            Ok(Json::Object(object))
        }
    }
}
