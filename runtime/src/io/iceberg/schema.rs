//! An Iceberg schema as the Arrow schema featc reads it with: each Iceberg type as the
//! Arrow type a Parquet reader gives the column Iceberg writes for it (the table
//! spec's Parquet type mapping, as pyiceberg reads it), and each column's field id,
//! by which data files are matched to the table's columns.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::Deserialize;

use super::error::Problem;

/// A column of an Iceberg schema.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IcebergField {
    pub id: i32,
    pub name: String,
    pub required: bool,
    /// A primitive type's name (`long`, `decimal(9, 2)`, …), or a nested type's
    /// object (`{"type": "struct", …}`).
    #[serde(rename = "type")]
    pub ty: serde_json::Value,
}

/// The Arrow schema of the table's columns (no field metadata: the ids are kept
/// apart), and each column's field id by name.
pub fn arrow_schema(fields: &[IcebergField]) -> Result<(SchemaRef, HashMap<String, i32>), Problem> {
    let mut arrow = Vec::with_capacity(fields.len());
    let mut ids = HashMap::with_capacity(fields.len());
    for f in fields {
        arrow.push(Field::new(&f.name, arrow_type(f)?, !f.required));
        ids.insert(f.name.clone(), f.id);
    }
    Ok((Arc::new(Schema::new(arrow)), ids))
}

fn arrow_type(field: &IcebergField) -> Result<DataType, Problem> {
    let unsupported = || Problem::UnsupportedType {
        column: field.name.clone(),
        ty: match &field.ty {
            serde_json::Value::String(name) => name.clone(),
            serde_json::Value::Object(o) => o
                .get("type")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("unknown")
                .to_string(),
            other => other.to_string(),
        },
    };
    // Nested types (struct, list, map) are objects: not read yet.
    let Some(name) = field.ty.as_str() else {
        return Err(unsupported());
    };
    let utc = || Some(Arc::from("UTC"));
    let ty = match name {
        "boolean" => DataType::Boolean,
        "int" => DataType::Int32,
        "long" => DataType::Int64,
        "float" => DataType::Float32,
        "double" => DataType::Float64,
        "date" => DataType::Date32,
        "time" => DataType::Time64(TimeUnit::Microsecond),
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, None),
        "timestamptz" => DataType::Timestamp(TimeUnit::Microsecond, utc()),
        "string" => DataType::Utf8,
        "uuid" => DataType::FixedSizeBinary(16),
        "binary" => DataType::Binary,
        _ => {
            if let Some((precision, scale)) = decimal(name) {
                DataType::Decimal128(precision, scale)
            } else if let Some(length) = fixed(name) {
                DataType::FixedSizeBinary(length)
            } else {
                return Err(unsupported());
            }
        }
    };
    Ok(ty)
}

/// `decimal(P, S)`'s precision and scale (P at most 38, as Iceberg allows).
fn decimal(name: &str) -> Option<(u8, i8)> {
    let inner = name.strip_prefix("decimal(")?.strip_suffix(')')?;
    let (p, s) = inner.split_once(',')?;
    let (p, s): (u8, i8) = (p.trim().parse().ok()?, s.trim().parse().ok()?);
    (1..=38).contains(&p).then_some(())?;
    (0..=p as i8).contains(&s).then_some((p, s))
}

/// `fixed[L]`'s length.
fn fixed(name: &str) -> Option<i32> {
    let inner = name.strip_prefix("fixed[")?.strip_suffix(']')?;
    inner.trim().parse().ok().filter(|&l| l > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(ty: serde_json::Value) -> IcebergField {
        IcebergField {
            id: 1,
            name: "c".into(),
            required: false,
            ty,
        }
    }

    #[test]
    fn primitive_types_map_as_parquet_reads_them() {
        let of = |t: &str| arrow_type(&field(serde_json::Value::from(t)));
        assert_eq!(of("long"), Ok(DataType::Int64));
        assert_eq!(
            of("timestamptz"),
            Ok(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into())
            ))
        );
        assert_eq!(of("decimal(9, 2)"), Ok(DataType::Decimal128(9, 2)));
        assert_eq!(of("decimal(10,0)"), Ok(DataType::Decimal128(10, 0)));
        assert_eq!(of("fixed[16]"), Ok(DataType::FixedSizeBinary(16)));
        assert!(of("decimal(40, 2)").is_err());
        assert!(of("timestamp_ns").is_err());
        assert!(of("variant").is_err());
    }

    #[test]
    fn nested_types_are_refused_naming_the_column() {
        let list = serde_json::json!({"type": "list", "element-id": 2, "element": "long", "element-required": false});
        assert_eq!(
            arrow_type(&field(list)),
            Err(Problem::UnsupportedType {
                column: "c".into(),
                ty: "list".into()
            })
        );
    }
}
