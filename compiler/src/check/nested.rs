//! Struct and map column types as written (`struct<city: string?>`,
//! `map<string, float64?>`) to their shapes. A nested column is never a value: the
//! shapes only say which paths (`exprs::nested`) read what type. `written_shape`
//! reads a shape back from the IR's text of it (`ir::NestedColumn::written`), for
//! tools that build such columns (`verify::nested`).

use super::error::CheckError;
use super::types;
use featc_grammar::ast::TypeRef;
use featc_runtime::ir::DataType;

/// How deep types may nest: deeper is refused before anything walks it.
const MAX_DEPTH: usize = 16;

/// What a struct's field or a map's value holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A scalar or a list: where a path ends.
    Value(DataType),
    /// Named fields, in declaration order.
    Struct(Vec<Field>),
    /// String keys to values of one scalar or list type (`nullable`: a value may be
    /// null).
    Map { value: DataType, nullable: bool },
}

/// One field of a struct.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub shape: Shape,
    pub nullable: bool,
}

impl Shape {
    /// `struct` or `map`, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Shape::Value(_) => "value",
            Shape::Struct(_) => "struct",
            Shape::Map { .. } => "map",
        }
    }
}

/// True when `ty` is written as a struct or a map (checked by `shape`).
pub fn is_nested(ty: &TypeRef) -> bool {
    matches!(ty.name.name.as_str(), "struct" | "map")
}

/// The shape of a struct or map type as the IR writes it (`ir::NestedColumn::written`,
/// `struct<city: string?>`): the text parsed by the grammar as the type of a column
/// of a source of its own (there is no rule for a type alone) and checked by `shape`;
/// or the first error, its spans in that source.
pub fn written_shape(written: &str) -> Result<Shape, CheckError> {
    let text = format!("source s {{\n  time t\n  columns {{\n    c: {written}\n  }}\n}}\n");
    let file = featc_grammar::parse(0, &text).map_err(|errors| {
        errors.into_iter().next().map_or_else(
            || not_a_type(written, featc_grammar::ast::Span::new(0, 0, text.len())),
            crate::syntax_error,
        )
    })?;
    let column = file.items.iter().find_map(|item| match item {
        featc_grammar::ast::Item::Source(s) if s.columns.len() == 1 => s.columns.first(),
        _ => None,
    });
    match column {
        Some(c) if is_nested(&c.ty) => shape(&c.ty),
        Some(c) => Err(not_a_type(written, c.ty.span)),
        None => Err(not_a_type(
            written,
            featc_grammar::ast::Span::new(0, 0, text.len()),
        )),
    }
}

fn not_a_type(written: &str, span: featc_grammar::ast::Span) -> CheckError {
    CheckError::NestedType {
        message: format!("`{written}` is not a struct or map type"),
        span,
        help: "write `struct<name: type, ...>` or `map<string, type>`".to_string(),
    }
}

/// The shape of a struct or map type (`is_nested(ty)`), or its first error.
pub fn shape(ty: &TypeRef) -> Result<Shape, CheckError> {
    shape_at(ty, 0)
}

fn refuse(ty: &TypeRef, message: String, help: &str) -> CheckError {
    CheckError::NestedType {
        message,
        span: ty.span,
        help: help.to_string(),
    }
}

fn shape_at(ty: &TypeRef, depth: usize) -> Result<Shape, CheckError> {
    if depth > MAX_DEPTH {
        return Err(refuse(
            ty,
            format!("types nest deeper than {MAX_DEPTH} levels"),
            "flatten the data, or declare only the part the features read",
        ));
    }
    if !ty.args.is_empty() {
        return Err(refuse(
            ty,
            format!(
                "`{}` takes types in angle brackets, not numbers",
                ty.name.name
            ),
            "write `struct<name: type, ...>` or `map<string, type>`",
        ));
    }
    match ty.name.name.as_str() {
        "struct" => struct_shape(ty, depth),
        "map" => map_shape(ty),
        _ => field_value(ty).map(Shape::Value),
    }
}

fn struct_shape(ty: &TypeRef, depth: usize) -> Result<Shape, CheckError> {
    if ty.params.is_empty() {
        return Err(refuse(
            ty,
            "a struct needs at least one field".to_string(),
            "write its fields in angle brackets: `struct<city: string?, zip: int64?>`",
        ));
    }
    let mut fields: Vec<Field> = Vec::with_capacity(ty.params.len());
    for p in &ty.params {
        let Some(name) = &p.name else {
            return Err(refuse(
                &p.ty,
                "a struct's field has no name".to_string(),
                "name each field: `struct<city: string?>`",
            ));
        };
        if fields.iter().any(|f| f.name == name.name) {
            return Err(refuse(
                &p.ty,
                format!("the struct has two fields named `{}`", name.name),
                "give each field its own name",
            ));
        }
        let shape = match p.ty.name.name.as_str() {
            "struct" | "map" => shape_at(&p.ty, depth + 1)?,
            _ => Shape::Value(field_value(&p.ty)?),
        };
        fields.push(Field {
            name: name.name.clone(),
            shape,
            nullable: p.ty.nullable,
        });
    }
    Ok(Shape::Struct(fields))
}

fn map_shape(ty: &TypeRef) -> Result<Shape, CheckError> {
    let [key, value] = ty.params.as_slice() else {
        return Err(refuse(
            ty,
            format!(
                "a map takes a key and a value type, found {}",
                ty.params.len()
            ),
            "write `map<string, float64?>`",
        ));
    };
    if key.name.is_some() || value.name.is_some() {
        return Err(refuse(
            ty,
            "a map's types have no names".to_string(),
            "write `map<string, float64?>`",
        ));
    }
    if key.ty.name.name != "string" || !key.ty.params.is_empty() || !key.ty.args.is_empty() {
        return Err(refuse(
            &key.ty,
            format!("a map's keys are strings, not `{}`", key.ty.name.name),
            "declare the keys `string` (`map<string, T>`); expressions look them up by a string literal",
        ));
    }
    if key.ty.nullable {
        return Err(refuse(
            &key.ty,
            "a map's keys are never null".to_string(),
            "remove the `?`: `map<string, T>`",
        ));
    }
    if is_nested(&value.ty) {
        return Err(refuse(
            &value.ty,
            format!(
                "a map's values are scalars or lists, not a {}",
                value.ty.name.name
            ),
            "declare a struct of maps instead, or a map per field",
        ));
    }
    Ok(Shape::Map {
        value: field_value(&value.ty)?,
        nullable: value.ty.nullable,
    })
}

/// A field's or a map value's scalar or list type; a list of structs or maps, or of
/// decimals, is refused here with a hint.
fn field_value(ty: &TypeRef) -> Result<DataType, CheckError> {
    if ty.name.name == "list" {
        if let Some(item) = ty.params.first() {
            if is_nested(&item.ty) {
                return Err(refuse(
                    &item.ty,
                    format!("a list of {}s is not a column type", item.ty.name.name),
                    "read the list's parts as separate list columns (a struct of lists)",
                ));
            }
        }
    }
    types::data_type(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IR's text of a shape reads back as the shape the checker gave it.
    #[test]
    fn a_written_shape_reads_back() {
        let shape = written_shape(
            "struct<city: string?, geo: struct<lat: float64?>, m: map<string, list<int64>?>?>",
        );
        let Ok(Shape::Struct(fields)) = shape else {
            panic!("a struct: {shape:?}");
        };
        let names: Vec<(&str, &str, bool)> = fields
            .iter()
            .map(|f| (f.name.as_str(), f.shape.kind(), f.nullable))
            .collect();
        assert_eq!(
            names,
            [
                ("city", "value", true),
                ("geo", "struct", false),
                ("m", "map", true)
            ]
        );
        assert_eq!(
            written_shape("map<string, float64>"),
            Ok(Shape::Map {
                value: DataType::Float64,
                nullable: false
            })
        );
        let message = |w: &str| written_shape(w).map_err(|e| e.to_diagnostic().message);
        assert_eq!(
            message("int64"),
            Err("`int64` is not a struct or map type".to_string())
        );
        assert!(written_shape("int64 } } source x {").is_err());
        assert!(written_shape("map<int64, int64>").is_err());
        assert!(written_shape("struct<a: >").is_err());
    }
}
