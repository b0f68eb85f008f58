//! `format avro "schema.avsc"`: the schema file parsed (apache-avro) and checked
//! against the source's columns. The schema is a record; each column (and the time
//! column) is the field of its name, of a type that holds the column's values under
//! the JSON records' rules (the server turns each field into the JSON value it
//! stands for): ints widen, a timestamp is a `timestamp-millis`/`timestamp-micros`,
//! a `long` in the source's `epoch` unit or an RFC 3339 string, and a field may be a
//! union of `null` and such a type (a null in a non-null column is dead-lettered).

use apache_avro::schema::{Name, Schema};
use std::collections::HashMap;

use featc_runtime::ir::{AvroFormat, DataType, TopicFormat};

use super::topic::{SchemaFile, Want, Wanted};
use super::topic_error::TopicError;

/// Checks the Avro schema `file` against `wanted`.
pub fn check(
    file: SchemaFile<'_>,
    confluent: Option<u32>,
    wanted: &[Wanted],
) -> Result<TopicFormat, Vec<TopicError>> {
    let invalid = |reason: String| {
        vec![TopicError::Invalid {
            format: "Avro",
            file: file.location.clone(),
            reason,
            span: file.span,
        }]
    };
    let text = String::from_utf8(file.bytes.clone())
        .map_err(|e| invalid(format!("it is not UTF-8 ({e})")))?;
    let schema = Schema::parse_str(&text).map_err(|e| invalid(e.to_string()))?;
    let Schema::Record(record) = &schema else {
        return Err(invalid(format!(
            "its type is `{}`, and records are read from a record schema",
            type_name(&schema)
        )));
    };
    let names = named(&schema);
    let mut errors = Vec::new();
    for w in wanted {
        let Some(field) = record.fields.iter().find(|f| f.name == w.name) else {
            errors.push(TopicError::MissingColumn {
                column: w.name.clone(),
                file: file.location.clone(),
                fields: record.fields.iter().map(|f| f.name.clone()).collect(),
                span: w.name_span,
                schema: file.span,
            });
            continue;
        };
        if !holds(w.want, &field.schema, &names) {
            errors.push(TopicError::FieldType {
                column: w.name.clone(),
                declared: w.want.name(),
                found: type_name(&field.schema),
                accepted: accepted(w.want),
                span: w.type_span,
                schema: file.span,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(TopicFormat::Avro(AvroFormat {
        file: file.location,
        schema: text,
        confluent,
    }))
}

/// The named types a schema defines, so that a reference to one (`"type": "Point"`
/// after its definition) is checked as what it names.
fn named(schema: &Schema) -> HashMap<Name, Schema> {
    featc_runtime::ir::avro_named_types(schema)
}

/// The type a field of `schema` holds, past a union with `null` and a reference;
/// `None` for any other union (one of several types is not a column's type).
fn value_type<'a>(schema: &'a Schema, names: &'a HashMap<Name, Schema>) -> Option<&'a Schema> {
    let schema = match schema {
        Schema::Ref { name } => names.get(name)?,
        s => s,
    };
    match schema {
        Schema::Union(u) => {
            let mut others = u.variants().iter().filter(|v| **v != Schema::Null);
            match (others.next(), others.next()) {
                (Some(only), None) => value_type(only, names),
                _ => None,
            }
        }
        s => Some(s),
    }
}

/// Whether a field of type `schema` holds a column that wants `want`.
fn holds(want: Want, schema: &Schema, names: &HashMap<Name, Schema>) -> bool {
    let Some(s) = value_type(schema, names) else {
        return false;
    };
    let int = matches!(s, Schema::Int | Schema::Long);
    match want {
        Want::Struct => matches!(s, Schema::Record(_)),
        Want::Map => matches!(s, Schema::Map(_)),
        Want::Type(DataType::Int64) => int,
        Want::Type(DataType::Float64) => int || matches!(s, Schema::Float | Schema::Double),
        Want::Type(DataType::String) => {
            matches!(s, Schema::String | Schema::Enum(_) | Schema::Uuid(_))
        }
        Want::Type(DataType::Bool) => matches!(s, Schema::Boolean),
        Want::Type(DataType::Timestamp) => matches!(
            s,
            Schema::Long | Schema::String | Schema::TimestampMillis | Schema::TimestampMicros
        ),
        Want::Type(DataType::Date) => matches!(s, Schema::Date | Schema::String),
        Want::Type(DataType::Decimal { precision, scale }) => match s {
            Schema::Decimal(d) => {
                d.scale <= scale as usize
                    && d.precision.saturating_sub(d.scale) <= (precision - scale) as usize
            }
            _ => int || matches!(s, Schema::String),
        },
        Want::Type(DataType::List(l)) => match s {
            Schema::Array(a) if !l.counted => {
                holds(Want::Type(l.item.data_type()), &a.items, names)
            }
            _ => false,
        },
    }
}

/// The Avro types that hold `want`, as a phrase for the help.
fn accepted(want: Want) -> String {
    let or_null = ", or a union of `null` and one of them";
    let types = match want {
        Want::Struct => "an Avro `record`".to_string(),
        Want::Map => "an Avro `map`".to_string(),
        Want::Type(DataType::Int64) => "Avro `int` or `long`".to_string(),
        Want::Type(DataType::Float64) => "Avro `int`, `long`, `float` or `double`".to_string(),
        Want::Type(DataType::String) => "Avro `string`, an `enum` (its symbol) or a `uuid`".to_string(),
        Want::Type(DataType::Bool) => "Avro `boolean`".to_string(),
        Want::Type(DataType::Timestamp) => "Avro `timestamp-millis` or `timestamp-micros`, a `long` in the source's `epoch` unit, or a `string` in RFC 3339".to_string(),
        Want::Type(DataType::Date) => "Avro `date`, or a `string` such as `2024-03-31`".to_string(),
        Want::Type(DataType::Decimal { precision, scale }) => format!(
            "an Avro `decimal` of at most {scale} fractional and {} whole digits, `int`, `long`, or a `string` of the decimal",
            precision - scale
        ),
        Want::Type(DataType::List(l)) => format!(
            "an Avro `array` whose items a `{}` column reads",
            l.item.data_type().name()
        ),
    };
    format!("{types}{or_null}")
}

/// A schema's type as a message names it: its logical type where it has one.
pub fn type_name(schema: &Schema) -> String {
    match schema {
        Schema::Union(u) => {
            let names: Vec<String> = u.variants().iter().map(type_name).collect();
            format!("[{}]", names.join(", "))
        }
        Schema::Record(r) => format!("record {}", r.name.name()),
        Schema::Enum(e) => format!("enum {}", e.name.name()),
        Schema::Fixed(f) => format!("fixed {}", f.name.name()),
        Schema::Array(a) => format!("array<{}>", type_name(&a.items)),
        Schema::Map(m) => format!("map<{}>", type_name(&m.types)),
        Schema::Decimal(d) => format!("decimal({}, {})", d.precision, d.scale),
        Schema::Ref { name } => name.name().to_string(),
        other => {
            // The primitive and logical types: their canonical form (`"long"`,
            // `{"type": "long", "logicalType": "timestamp-micros"}`) names them.
            let json = serde_json::to_value(other).unwrap_or_default();
            let text = json
                .get("logicalType")
                .or_else(|| json.get("type"))
                .unwrap_or(&json);
            text.as_str()
                .map_or_else(|| text.to_string(), str::to_string)
        }
    }
}
