//! The record formats of bench/kafka.sh (`FORMAT=json|avro|protobuf`): each event of
//! the Parquet file encoded as a JSON object, an Avro datum or a Protobuf message,
//! with the schema the benchmark's project declares (compiled by featc, so exactly
//! the schema the server decodes with); and the floor's decoding of a record with the
//! same crates featc's server decodes with (serde_json, apache-avro, prost-reflect),
//! counting the fields, without featc's own work (columns, checks, state). A JSON
//! record is read by featc's own reader (`featc_server::kafka::json_keys::JsonKeys`,
//! the source's keys only, straight into their values), the same code featc runs.

use std::path::Path;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::Schema;
use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimestampMicrosecondType};
use datafusion::arrow::record_batch::RecordBatch;
use featc::ir::TopicFormat;
use featc_server::kafka::json_keys::JsonKeys;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, Value as Proto};

use super::{fail, row_json};

/// A format with its schema.
pub enum Codec {
    /// With the keys featc reads (the source `events`' columns), when a project is
    /// given.
    Json(Option<JsonKeys>),
    Avro(Schema),
    Protobuf(MessageDescriptor),
}

impl Codec {
    /// `json`, or the format the source `events` of the project in folder `project`
    /// declares (`avro`, `protobuf`).
    pub fn of(format: &str, project: Option<&str>) -> Codec {
        if format == "json" && project.is_none() {
            return Codec::Json(None);
        }
        let project = project.unwrap_or_else(|| fail("a format other than json needs PROJECT"));
        let files = featc::files::read_project(&[Path::new(project).to_path_buf()])
            .unwrap_or_else(|_| fail(format!("cannot read the project {project}")));
        let compiled = featc::compile(&files).unwrap_or_else(|d| fail(d.render(&files, false)));
        let source = compiled
            .sources
            .iter()
            .find(|s| s.name == "events")
            .unwrap_or_else(|| fail("the project has no source `events`"));
        if format == "json" {
            // featc's keys: the time column, the columns (a path's name too) and the
            // struct and map columns the paths read.
            let names = std::iter::once(source.time_column.as_str())
                .chain(source.columns.iter().map(|c| c.name.as_str()))
                .chain(source.nested.iter().map(|n| n.name.as_str()));
            return Codec::Json(Some(JsonKeys::new(names)));
        }
        let topic = source
            .topic
            .clone()
            .unwrap_or_else(|| fail("the project's source `events` declares no topic"));
        match (format, topic.format) {
            ("avro", TopicFormat::Avro(a)) => {
                Codec::Avro(Schema::parse_str(&a.schema).unwrap_or_else(|e| fail(e)))
            }
            ("protobuf", TopicFormat::Protobuf(p)) => {
                let pool =
                    DescriptorPool::decode(p.descriptors.as_slice()).unwrap_or_else(|e| fail(e));
                Codec::Protobuf(
                    pool.get_message_by_name(&p.message)
                        .unwrap_or_else(|| fail("no message")),
                )
            }
            (f, other) => fail(format!(
                "FORMAT={f}, and the project's topic is {}",
                other.name()
            )),
        }
    }

    /// Row `row` of `batch` encoded into `out` (`text` a scratch buffer).
    pub fn encode(&self, batch: &RecordBatch, row: usize, text: &mut String, out: &mut Vec<u8>) {
        out.clear();
        match self {
            Codec::Json(_) => {
                row_json(batch, row, None, text);
                out.extend_from_slice(text.as_bytes());
            }
            Codec::Avro(schema) => {
                let Schema::Record(record) = schema else {
                    fail("not a record schema")
                };
                let mut fields = Vec::with_capacity(record.fields.len());
                for f in &record.fields {
                    let column = batch
                        .column_by_name(&f.name)
                        .unwrap_or_else(|| fail(format!("no column {}", f.name)));
                    let value = avro_cell(column.as_ref(), row);
                    // A union of null and one type: its branch.
                    let value = match (&f.schema, value) {
                        (Schema::Union(u), Avro::Null) => Avro::Union(
                            u.variants()
                                .iter()
                                .position(|v| *v == Schema::Null)
                                .unwrap_or(0) as u32,
                            Box::new(Avro::Null),
                        ),
                        (Schema::Union(u), v) => Avro::Union(
                            u.variants()
                                .iter()
                                .position(|v| *v != Schema::Null)
                                .unwrap_or(0) as u32,
                            Box::new(v),
                        ),
                        (_, v) => v,
                    };
                    fields.push((f.name.clone(), value));
                }
                let writer = GenericDatumWriter::builder(schema)
                    .build()
                    .unwrap_or_else(|e| fail(e));
                writer
                    .write_value(out, Avro::Record(fields))
                    .unwrap_or_else(|e| fail(e));
            }
            Codec::Protobuf(message) => {
                let mut m = DynamicMessage::new(message.clone());
                for field in message.fields() {
                    let Some(column) = batch.column_by_name(field.name()) else {
                        continue;
                    };
                    if column.is_null(row) {
                        continue;
                    }
                    let value = match column.data_type() {
                        DataType::Timestamp(_, _) => {
                            let us = column.as_primitive::<TimestampMicrosecondType>().value(row);
                            let prost_reflect::Kind::Message(ts) = field.kind() else {
                                fail("the time field is not a Timestamp")
                            };
                            let mut t = DynamicMessage::new(ts);
                            t.set_field_by_name("seconds", Proto::I64(us.div_euclid(1_000_000)));
                            t.set_field_by_name(
                                "nanos",
                                Proto::I32((us.rem_euclid(1_000_000) * 1000) as i32),
                            );
                            Proto::Message(t)
                        }
                        DataType::Int64 => {
                            Proto::I64(column.as_primitive::<Int64Type>().value(row))
                        }
                        DataType::Float64 => {
                            Proto::F64(column.as_primitive::<Float64Type>().value(row))
                        }
                        DataType::Boolean => Proto::Bool(column.as_boolean().value(row)),
                        DataType::Utf8 => {
                            Proto::String(column.as_string::<i32>().value(row).to_string())
                        }
                        other => fail(format!("column {}: {other} not produced", field.name())),
                    };
                    m.set_field(&field, value);
                }
                m.encode(out).unwrap_or_else(|e| fail(e));
            }
        }
    }

    /// The fields `record` decodes into, `None` when it does not decode (`slots`
    /// scratch space, reused from record to record as featc's decoder does).
    pub fn decode(
        &self,
        record: &[u8],
        slots: &mut Vec<Option<serde_json::Value>>,
    ) -> Option<usize> {
        match self {
            Codec::Json(Some(keys)) => match keys.read(record, slots) {
                Ok(()) => Some(slots.iter().filter(|s| s.is_some()).count()),
                Err(_) => None,
            },
            Codec::Json(None) => match serde_json::from_slice::<serde_json::Value>(record) {
                Ok(serde_json::Value::Object(o)) => Some(o.len()),
                _ => None,
            },
            Codec::Avro(schema) => {
                let mut bytes = record;
                let reader = GenericDatumReader::builder(schema).build().ok()?;
                match reader.read_value(&mut bytes).ok()? {
                    Avro::Record(fields) => Some(fields.len()),
                    _ => None,
                }
            }
            Codec::Protobuf(message) => DynamicMessage::decode(message.clone(), record)
                .ok()
                .map(|m| m.fields().count()),
        }
    }
}

/// A cell as an Avro value of its column's type (a time as `timestamp-micros`).
fn avro_cell(column: &dyn Array, row: usize) -> Avro {
    if column.is_null(row) {
        return Avro::Null;
    }
    match column.data_type() {
        DataType::Timestamp(_, _) => {
            Avro::TimestampMicros(column.as_primitive::<TimestampMicrosecondType>().value(row))
        }
        DataType::Int64 => Avro::Long(column.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => Avro::Double(column.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => Avro::Boolean(column.as_boolean().value(row)),
        DataType::Utf8 => Avro::String(column.as_string::<i32>().value(row).to_string()),
        other => fail(format!("type {other} not produced")),
    }
}
