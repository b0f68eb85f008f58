//! Avro records (`format avro "x.avsc"`): each record one Avro datum of the record
//! schema the compiler checked (or framed by Confluent's header first), decoded with
//! apache-avro and turned field by field into the JSON value it stands for, so that
//! the columns are read by the JSON records' rules, exactly: a `timestamp-micros` or
//! `timestamp-millis` is its instant in RFC 3339, a `long` time an integer in the
//! source's `epoch` unit, a `date` its day, a `decimal` its exact digits, an `enum`
//! its symbol, a record an object, a union its branch.
//!
//! Bounded: apache-avro refuses a length field (string, bytes, array, map) larger
//! than `max_allocation_bytes`, set from the largest record the consumer fetches
//! (`MAX_RECORD_BYTES`), before it allocates; a record longer than that never gets
//! here.

use crate::wire::json::float_json;
use std::collections::HashMap;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::{Name, Schema};
use apache_avro::types::Value;
use featc_runtime::ir::AvroFormat;
use featc_runtime::row::date::format_date;
use featc_runtime::row::decimal::format_decimal;
use serde_json::{Map, Value as Json};

use super::confluent;
use super::consumer::MAX_RECORD_BYTES;
use super::format::FormatError;
use crate::wire::time::format_time;

/// What a datum is read followed by (see `AvroRecords::object`).
const END: [u8; 1] = [0xff];

/// A topic's Avro schema, ready to decode its records.
#[derive(Debug)]
pub struct AvroRecords {
    schema: Schema,
    /// The named types the schema defines (a field may name one).
    names: HashMap<Name, Schema>,
    /// The columns read: (name, index of its field in the record).
    fields: Vec<(String, usize)>,
    confluent: Option<u32>,
}

impl AvroRecords {
    /// The schema of `format`, reading `columns` (each a field of the record, as the
    /// compiler checked).
    pub fn new<'a>(
        format: &AvroFormat,
        columns: impl Iterator<Item = &'a str>,
    ) -> Result<AvroRecords, FormatError> {
        // Once per process (apache-avro keeps the first value): no length field may
        // make it allocate more than a whole record could hold.
        apache_avro::util::max_allocation_bytes(MAX_RECORD_BYTES);
        let schema = Schema::parse_str(&format.schema)
            .map_err(|e| format!("the Avro schema of `{}`: {e}", format.file))?;
        let Schema::Record(record) = &schema else {
            return Err(format!("the Avro schema of `{}` is not a record", format.file).into());
        };
        let mut fields = Vec::new();
        for c in columns {
            let Some(i) = record.fields.iter().position(|f| f.name == c) else {
                return Err(
                    format!("the Avro schema of `{}` has no field `{c}`", format.file).into(),
                );
            };
            fields.push((c.to_string(), i));
        }
        let names = featc_runtime::ir::avro_named_types(&schema);
        Ok(AvroRecords {
            schema,
            names,
            fields,
            confluent: format.confluent,
        })
    }

    /// The record's columns as a JSON object, or why it does not decode.
    pub fn object(&self, record: &[u8]) -> Result<Map<String, Json>, FormatError> {
        let datum = match self.confluent {
            Some(id) => confluent::unframe(record, id)?,
            None => record,
        };
        let reader = GenericDatumReader::builder(&self.schema)
            .build()
            .map_err(|e| format!("not an Avro datum of the schema: {e}"))?;
        // apache-avro reads a union at the very end of its input as null (as if the
        // writer had left the field out), so a record cut just before a trailing
        // union would pass for one with a null there. The datum is read followed by
        // `END`, a byte that continues a varint, and exactly that byte must be left.
        let mut input = std::io::Read::chain(datum, &END[..]);
        let value = reader
            .read_value(&mut input)
            .map_err(|e| format!("not an Avro datum of the schema: {e}"))?;
        let mut rest = Vec::new();
        std::io::Read::read_to_end(&mut input, &mut rest)
            .map_err(|e| format!("not an Avro datum of the schema: {e}"))?;
        if rest.is_empty() {
            return Err("not an Avro datum of the schema: the record is cut short".into());
        }
        if rest != END {
            return Err(format!(
                "not an Avro datum of the schema: {} bytes left after the datum",
                rest.len().saturating_sub(1)
            )
            .into());
        }
        let (Value::Record(values), Schema::Record(record)) = (value, &self.schema) else {
            return Err("not an Avro datum of the schema: not a record".into());
        };
        let mut object = Map::with_capacity(self.fields.len());
        for (name, i) in &self.fields {
            let (Some((_, value)), Some(field)) = (values.get(*i), record.fields.get(*i)) else {
                continue;
            };
            let cell = json(value, &field.schema, &self.names)
                .map_err(|e| format!("field `{name}`: {e}"))?;
            object.insert(name.clone(), cell);
        }
        Ok(object)
    }
}

/// Microseconds as an RFC 3339 instant, or why they are not one.
fn instant(us: Option<i64>) -> Result<Json, String> {
    us.map(|us| Json::from(format_time(us)))
        .ok_or_else(|| "a time out of range".to_string())
}

/// The JSON value `value` (of type `schema`) stands for.
fn json(value: &Value, schema: &Schema, names: &HashMap<Name, Schema>) -> Result<Json, String> {
    let schema = match schema {
        Schema::Ref { name } => names.get(name).unwrap_or(schema),
        s => s,
    };
    Ok(match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Long(l) => Json::from(*l),
        Value::Float(f) => float_json(f64::from(*f)),
        Value::Double(d) => float_json(*d),
        Value::String(s) => Json::String(s.clone()),
        Value::Enum(_, symbol) => Json::String(symbol.clone()),
        Value::Uuid(u) => Json::String(u.to_string()),
        Value::Union(i, inner) => {
            let branch = match schema {
                Schema::Union(u) => u.variants().get(*i as usize).unwrap_or(schema),
                s => s,
            };
            json(inner, branch, names)?
        }
        Value::Array(items) => {
            let item = match schema {
                Schema::Array(a) => &*a.items,
                s => s,
            };
            Json::Array(
                items
                    .iter()
                    .map(|v| json(v, item, names))
                    .collect::<Result<_, _>>()?,
            )
        }
        Value::Map(entries) => {
            let item = match schema {
                Schema::Map(m) => &*m.types,
                s => s,
            };
            let mut object = Map::with_capacity(entries.len());
            for (k, v) in entries {
                object.insert(k.clone(), json(v, item, names)?);
            }
            Json::Object(object)
        }
        Value::Record(fields) => {
            let schemas = match schema {
                Schema::Record(r) => Some(&r.fields),
                _ => None,
            };
            let mut object = Map::with_capacity(fields.len());
            for (i, (k, v)) in fields.iter().enumerate() {
                let field = schemas.and_then(|f| f.get(i)).map_or(schema, |f| &f.schema);
                object.insert(k.clone(), json(v, field, names)?);
            }
            Json::Object(object)
        }
        Value::Date(d) => Json::from(format_date(*d)),
        Value::TimestampMillis(ms) => instant(ms.checked_mul(1000))?,
        Value::TimestampMicros(us) => instant(Some(*us))?,
        Value::Decimal(d) => {
            let Schema::Decimal(s) = schema else {
                return Err("a decimal without its scale".into());
            };
            let bytes: Vec<u8> = d.try_into().map_err(|e| format!("a decimal: {e}"))?;
            let unscaled = two_complement(&bytes).ok_or("a decimal of more than 38 digits")?;
            let scale = u8::try_from(s.scale).map_err(|_| "a decimal scale above 255")?;
            Json::from(format_decimal(unscaled, scale))
        }
        other => {
            let kind = apache_avro::schema::SchemaKind::from(other);
            return Err(format!(
                "an Avro {kind:?} value, which no column type holds"
            ));
        }
    })
}

/// A big-endian two's complement integer of at most 16 bytes.
fn two_complement(bytes: &[u8]) -> Option<i128> {
    if bytes.len() > 16 {
        return None;
    }
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut full = [if negative { 0xff } else { 0 }; 16];
    full[16 - bytes.len()..].copy_from_slice(bytes);
    Some(i128::from_be_bytes(full))
}

#[cfg(test)]
mod tests {
    use apache_avro::types::Value;
    use apache_avro::writer::datum::GenericDatumWriter;
    use apache_avro::Decimal;
    use featc_runtime::ir::AvroFormat;
    use serde_json::json;

    use super::AvroRecords;

    const SCHEMA: &str = r#"{
        "type": "record", "name": "E", "fields": [
            {"name": "ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "fee", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}]},
            {"name": "kind", "type": {"type": "enum", "name": "K", "symbols": ["a", "b"]}},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "attrs", "type": {"type": "map", "values": "double"}},
            {"name": "name", "type": "string"}
        ]
    }"#;

    fn records(confluent: Option<u32>) -> AvroRecords {
        let format = AvroFormat {
            file: "e.avsc".into(),
            schema: SCHEMA.into(),
            confluent,
        };
        let columns = ["ms", "day", "fee", "kind", "tags", "attrs", "name"];
        AvroRecords::new(&format, columns.into_iter()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn datum(records: &AvroRecords, fee: Value) -> Vec<u8> {
        let value = Value::Record(vec![
            ("ms".into(), Value::TimestampMillis(1_711_842_900_123)),
            ("day".into(), Value::Date(19_813)),
            ("fee".into(), fee),
            ("kind".into(), Value::Enum(1, "b".into())),
            ("tags".into(), Value::Array(vec![Value::String("x".into())])),
            (
                "attrs".into(),
                Value::Map([("w".to_string(), Value::Double(f64::NAN))].into()),
            ),
            ("name".into(), Value::String("Oslo".into())),
        ]);
        GenericDatumWriter::builder(&records.schema)
            .build()
            .and_then(|w| w.write_value_to_vec(value))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn logical_types_read_as_the_json_values_they_stand_for() {
        let records = records(None);
        // -12.34: unscaled -1234, two's complement big-endian.
        let fee = Value::Union(1, Box::new(Value::Decimal(Decimal::from(vec![0xfb, 0x2e]))));
        let object = records
            .object(&datum(&records, fee))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(object["ms"], json!("2024-03-30T23:55:00.123Z"));
        assert_eq!(object["day"], json!("2024-03-31"));
        assert_eq!(object["fee"], json!("-12.34"));
        assert_eq!(object["kind"], json!("b"));
        assert_eq!(object["tags"], json!(["x"]));
        assert_eq!(object["attrs"], json!({"w": "NaN"}));
        let null = records
            .object(&datum(&records, Value::Union(0, Box::new(Value::Null))))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(null["fee"], json!(null));
    }

    #[test]
    fn a_record_cut_short_or_too_long_or_claiming_a_huge_length_is_refused() {
        let records = records(None);
        let whole = datum(&records, Value::Union(0, Box::new(Value::Null)));
        let cut = records.object(&whole[..whole.len() - 1]).unwrap_err().0;
        assert!(cut.starts_with("not an Avro datum of the schema"), "{cut}");
        let mut long = whole.clone();
        long.push(0);
        let trailing = records.object(&long).unwrap_err().0;
        assert!(trailing.contains("1 bytes left"), "{trailing}");
        // The string `name` claims 2^40 bytes (zigzag varint) with none behind it.
        let mut huge = whole[..whole.len() - 5].to_vec();
        huge.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
        let refused = records.object(&huge).unwrap_err().0;
        assert!(
            refused.starts_with("not an Avro datum of the schema"),
            "{refused}"
        );
    }

    #[test]
    fn a_confluent_record_must_carry_the_declared_id() {
        let records = records(Some(42));
        let bare = datum(&records, Value::Union(0, Box::new(Value::Null)));
        let mut framed = vec![0, 0, 0, 0, 42];
        framed.extend(&bare);
        assert!(records.object(&framed).is_ok());
        framed[4] = 43;
        let other = records.object(&framed).unwrap_err().0;
        assert!(
            other.contains("schema id 43") && other.contains("42"),
            "{other}"
        );
        assert!(records.object(&bare).unwrap_err().0.contains("magic byte"));
    }
}
