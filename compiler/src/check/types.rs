//! Type names as written (`int64`, `string?`) to IR data types.

use super::error::CheckError;
use super::suggest::closest;
use featc_grammar::ast::TypeRef;
use featc_runtime::ir::{DataType, ListType, Scalar};

const TYPES: &[DataType] = &[
    DataType::Int64,
    DataType::Float64,
    DataType::String,
    DataType::Bool,
    DataType::Timestamp,
    DataType::Date,
];

/// The data type a type reference names (nullability is `TypeRef::nullable`):
/// a scalar, or `list<T>` for a scalar `T` or `float32` (an embedding's 32-bit
/// floats, read widened exactly: a `list<float64>` from then on).
pub fn data_type(ty: &TypeRef) -> Result<DataType, CheckError> {
    match (&ty.item, ty.name.name.as_str()) {
        (Some(item), "list") => {
            let scalar = match item.name.as_str() {
                "float32" => Some(Scalar::Float64),
                name => TYPES
                    .iter()
                    .find(|t| t.name() == name)
                    .and_then(|t| t.scalar()),
            };
            return match scalar {
                Some(s) => Ok(DataType::List(ListType {
                    item: s,
                    counted: false,
                })),
                None => Err(CheckError::UnknownType {
                    name: item.name.clone(),
                    span: item.span,
                    suggestion: closest(
                        &item.name,
                        TYPES.iter().map(|t| t.name()).chain(["float32"]),
                    )
                    .or_else(|| alias(&item.name).map(str::to_string)),
                }),
            };
        }
        (Some(_), _) | (None, "list") => {
            return Err(CheckError::UnknownType {
                name: format!(
                    "{}{}",
                    ty.name.name,
                    ty.item
                        .as_ref()
                        .map_or(String::new(), |i| format!("<{}>", i.name))
                ),
                span: ty.span,
                suggestion: Some("list<float64>".to_string()),
            })
        }
        (None, _) => {}
    }
    TYPES
        .iter()
        .copied()
        .find(|t| t.name() == ty.name.name)
        .ok_or_else(|| CheckError::UnknownType {
            name: ty.name.name.clone(),
            span: ty.name.span,
            suggestion: closest(&ty.name.name, TYPES.iter().map(|t| t.name()))
                .or_else(|| alias(&ty.name.name).map(str::to_string)),
        })
}

/// Common names from other languages, so `int` or `double` get a useful hint even
/// though they are far from the real name in edit distance.
fn alias(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "int" | "integer" | "long" | "bigint" | "i64" => "int64",
        "float" | "double" | "real" | "f64" | "number" => "float64",
        "str" | "text" | "varchar" => "string",
        "boolean" => "bool",
        "datetime" | "time" => "timestamp",
        "day" | "date32" => "date",
        _ => return None,
    })
}
