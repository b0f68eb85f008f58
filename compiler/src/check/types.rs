//! Type names as written (`int64`, `string?`) to IR data types.

use super::error::CheckError;
use super::suggest::closest;
use featc_grammar::ast::TypeRef;
use featc_runtime::ir::DataType;

const TYPES: &[DataType] = &[
    DataType::Int64,
    DataType::Float64,
    DataType::String,
    DataType::Bool,
    DataType::Timestamp,
    DataType::Date,
];

/// The data type a type reference names (nullability is `TypeRef::nullable`).
pub fn data_type(ty: &TypeRef) -> Result<DataType, CheckError> {
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
