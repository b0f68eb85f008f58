//! A source's `topic "t" format F ...` clause: the format and its arguments, and for
//! Avro and Protobuf the schema file, read (through the compile's `ReadFile`) and
//! checked against the source's columns here, so that a record the server cannot
//! decode into them is a compile error, not a stream of dead letters. The IR keeps
//! what was checked (`ir::TopicFormat`).

use std::sync::Arc;

use featc_grammar::ast;
use featc_runtime::ir::{self, DataType};

use super::error::CheckError;
use super::nested::Shape;
use super::topic_error::TopicError;
use crate::project::{resolve_location, ReadFile};

/// What a column needs of its schema field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Want {
    Type(DataType),
    /// A struct column: a record (Avro) or message (Protobuf) field.
    Struct,
    /// A map column: a map field.
    Map,
}

impl Want {
    pub fn name(&self) -> String {
        match self {
            Want::Type(t) => t.name().into_owned(),
            Want::Struct => "struct".into(),
            Want::Map => "map".into(),
        }
    }
}

/// A column a topic's records must carry: the time column, then the declared ones.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub name: String,
    pub want: Want,
    /// Where its name is declared (a missing field), and its type (a wrong one).
    pub name_span: ast::Span,
    pub type_span: ast::Span,
}

/// The columns of `decl` a record carries, with the types `check` gave them
/// (columns whose type was refused are left out: they have an error already).
pub fn wanted(
    decl: &ast::SourceDecl,
    columns: &[ir::Column],
    nested: &[(String, Shape, bool)],
) -> Vec<Wanted> {
    let mut out = Vec::new();
    if let Some(time) = &decl.time {
        out.push(Wanted {
            name: time.name.clone(),
            want: Want::Type(DataType::Timestamp),
            name_span: time.span,
            type_span: time.span,
        });
    }
    for c in &decl.columns {
        if out.iter().any(|w| w.name == c.name.name) {
            continue;
        }
        let want = match nested.iter().find(|(n, _, _)| *n == c.name.name) {
            Some((_, Shape::Map { .. }, _)) => Want::Map,
            Some(_) => Want::Struct,
            None => match columns.iter().find(|k| k.name == c.name.name) {
                Some(k) => Want::Type(k.ty),
                None => continue,
            },
        };
        out.push(Wanted {
            name: c.name.name.clone(),
            want,
            name_span: c.name.span,
            type_span: c.ty.span,
        });
    }
    out
}

/// The schema file of a format clause, read: its resolved location, text and span.
pub struct SchemaFile<'a> {
    pub location: String,
    pub bytes: Vec<u8>,
    pub span: ast::Span,
    pub reader: &'a Arc<dyn ReadFile>,
}

/// Checks topic clause `t` of a source declared in `declared_in` whose records carry
/// `wanted`; `None` (with errors) when it cannot be used.
pub fn check(
    t: &ast::TopicDecl,
    declared_in: &str,
    reader: &Arc<dyn ReadFile>,
    wanted: &[Wanted],
    errors: &mut Vec<CheckError>,
) -> Option<ir::Topic> {
    let (name, name_span) = match &t.format {
        None => ("json", t.span),
        Some(f) => match ir::TopicFormat::NAMES.iter().find(|k| **k == f.name) {
            Some(k) => (*k, f.span),
            None => {
                errors.push(CheckError::UnknownTopicFormat {
                    format: f.name.clone(),
                    span: f.span,
                });
                return None;
            }
        },
    };
    // The clause from the format's name to its last word.
    let end = t
        .confluent
        .as_ref()
        .map(|c| c.1.end)
        .or(t.args.last().map(|a| a.span.end))
        .unwrap_or(name_span.end);
    let clause = ast::Span {
        end: end.max(name_span.end),
        ..name_span
    };
    let wrong = |problem: &str| TopicError::Arguments {
        format: name.to_string(),
        problem: problem.to_string(),
        span: clause,
    };
    let confluent = match &t.confluent {
        None => None,
        Some(_) if name == "json" => {
            return refuse(errors, wrong(
                "JSON records are not framed by a schema registry: `confluent` is for Avro and Protobuf",
            ))
        }
        Some((id, _)) => match id.parse::<u32>() {
            Ok(id) => Some(id),
            Err(_) => return refuse(errors, wrong("a schema id is a number from 0 to 4294967295")),
        },
    };
    let expected = match name {
        "avro" => 1,
        "protobuf" => 2,
        _ => 0,
    };
    if t.args.len() != expected {
        return refuse(errors, wrong(match name {
            "avro" => "takes one string, the schema file: `format avro \"schema.avsc\"`",
            "protobuf" => "takes two strings, the `.proto` file and the message: `format protobuf \"file.proto\" \"Message\"`",
            _ => "takes no schema file: each record is one JSON object",
        }));
    }
    let format = match t.args.first() {
        None => ir::TopicFormat::Json,
        Some(file) => {
            let location = resolve_location(declared_in, &file.value);
            let bytes = match reader.read(&location) {
                Ok(b) => b,
                Err(e) => {
                    return refuse(
                        errors,
                        TopicError::Unreadable {
                            file: location,
                            reason: e.to_string(),
                            span: file.span,
                        },
                    )
                }
            };
            let schema = SchemaFile {
                location,
                bytes,
                span: file.span,
                reader,
            };
            let checked = match t.args.get(1) {
                None => super::topic_avro::check(schema, confluent, wanted),
                Some(message) => super::topic_protobuf::check(schema, message, confluent, wanted),
            };
            match checked {
                Ok(format) => format,
                Err(errs) => {
                    errors.extend(errs.into_iter().map(CheckError::Topic));
                    return None;
                }
            }
        }
    };
    Some(ir::Topic {
        name: t.name.value.clone(),
        format,
        span: super::exprs::span(t.span),
    })
}

fn refuse(errors: &mut Vec<CheckError>, e: TopicError) -> Option<ir::Topic> {
    errors.push(CheckError::Topic(e));
    None
}
