//! Type names as written (`int64`, `string?`, `decimal(12, 2)`) to IR data types.

use super::error::CheckError;
use super::suggest::closest;
use featc_grammar::ast::TypeRef;
use featc_runtime::ir::{decimal_type, DataType, ListType, Scalar};

const TYPES: &[DataType] = &[
    DataType::Int64,
    DataType::Float64,
    DataType::String,
    DataType::Bool,
    DataType::Timestamp,
    DataType::Date,
];

/// Every type name, for suggestions (`decimal` takes its numbers after the name).
const NAMES: &[&str] = &[
    "int64",
    "float64",
    "string",
    "bool",
    "timestamp",
    "date",
    "decimal",
];

/// The data type a type reference names (nullability is `TypeRef::nullable`):
/// a scalar, or `list<T>` for a scalar `T` or `float32` (an embedding's 32-bit
/// floats, read widened exactly: a `list<float64>` from then on).
pub fn data_type(ty: &TypeRef) -> Result<DataType, CheckError> {
    if super::nested::is_nested(ty) {
        return Err(CheckError::NestedType {
            message: format!("a {} is not a value type", ty.name.name),
            span: ty.span,
            help: "structs and maps are the types of a source's columns only; their fields are read by paths such as `address.city` or `attrs['color']`".to_string(),
        });
    }
    if !ty.params.is_empty() || ty.name.name == "list" {
        return list_type(ty);
    }
    let name = ty.name.name.as_str();
    let bad = || CheckError::DecimalType {
        written: written(ty),
        span: ty.span,
    };
    if name == "decimal" {
        let [p, s] = ty.args.as_slice() else {
            return Err(bad());
        };
        // A number too long for a u64 is out of range like any other.
        let (p, s) = (p.digits.parse::<u64>(), s.digits.parse::<u64>());
        return match (p, s) {
            (Ok(p), Ok(s)) => decimal_type(p, s).ok_or_else(bad),
            _ => Err(bad()),
        };
    }
    let found = TYPES.iter().copied().find(|t| t.name() == name);
    match found {
        Some(_) if !ty.args.is_empty() => Err(bad()),
        Some(t) => Ok(t),
        None => Err(CheckError::UnknownType {
            name: ty.name.name.clone(),
            span: ty.name.span,
            suggestion: closest(name, NAMES.iter().copied())
                .or_else(|| alias(name).map(str::to_string)),
        }),
    }
}

/// The type as written, without its `?`: `decimal(40, 2)`.
fn written(ty: &TypeRef) -> String {
    if ty.args.is_empty() {
        return ty.name.name.clone();
    }
    let args: Vec<&str> = ty.args.iter().map(|a| a.digits.as_str()).collect();
    format!("{}({})", ty.name.name, args.join(", "))
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
        "numeric" | "decimal128" | "money" => "decimal",
        _ => return None,
    })
}

/// `list<T>`: `T` a scalar type but decimal, or `float32`.
fn list_type(ty: &TypeRef) -> Result<DataType, CheckError> {
    let item = match (ty.params.as_slice(), ty.name.name.as_str()) {
        ([item], "list") if item.name.is_none() => &item.ty,
        _ => {
            let params: Vec<String> = ty.params.iter().map(|p| p.ty.name.name.clone()).collect();
            let params = if params.is_empty() {
                String::new()
            } else {
                format!("<{}>", params.join(", "))
            };
            return Err(CheckError::UnknownType {
                name: format!("{}{params}", ty.name.name),
                span: ty.span,
                suggestion: Some("list<float64>".to_string()),
            });
        }
    };
    if item.name.name == "decimal" || item.nullable || !item.params.is_empty() {
        let (message, help) = if item.name.name == "decimal" {
            (
                "a list of decimals is not a column type".to_string(),
                "read the items as float64 (`list<float64>`), or the values as a decimal column each",
            )
        } else if item.nullable {
            (
                "a list's items take no `?`".to_string(),
                "a list's items may always be null: write `list<T>`",
            )
        } else {
            (
                format!("a list of {}s is not a column type", item.name.name),
                "read the list's parts as separate list columns (a struct of lists)",
            )
        };
        return Err(CheckError::NestedType {
            message,
            span: item.span,
            help: help.to_string(),
        });
    }
    let item = &item.name;
    let scalar = match item.name.as_str() {
        "float32" => Some(Scalar::Float64),
        name => TYPES
            .iter()
            .find(|t| t.name() == name)
            .and_then(|t| t.scalar()),
    };
    match scalar {
        Some(s) => Ok(DataType::List(ListType {
            item: s,
            counted: false,
        })),
        None => Err(CheckError::UnknownType {
            name: item.name.clone(),
            span: item.span,
            suggestion: closest(
                &item.name,
                NAMES
                    .iter()
                    .copied()
                    .filter(|n| *n != "decimal")
                    .chain(["float32"]),
            )
            .or_else(|| alias(&item.name).map(str::to_string)),
        }),
    }
}
