//! What can be wrong with a topic's format clause and the schema file it names
//! (E0070 to E0075): each a value, rendered here, once.

use crate::diagnostics::{Diagnostic, Label};
use featc_grammar::ast::Span;

/// A topic's format clause, or its schema file, refused.
#[derive(Debug, Clone, PartialEq)]
pub enum TopicError {
    /// The schema file cannot be read (`reason`: the system's words).
    Unreadable {
        file: String,
        reason: String,
        span: Span,
    },
    /// The file is not a schema of its format (or not a record/message of fields).
    Invalid {
        format: &'static str,
        file: String,
        reason: String,
        span: Span,
    },
    /// `format protobuf "x.proto" "M"`: the file has no message `M`.
    UnknownMessage {
        message: String,
        file: String,
        known: Vec<String>,
        span: Span,
    },
    /// A declared column (or the time column) that the schema has no field for.
    MissingColumn {
        column: String,
        file: String,
        fields: Vec<String>,
        span: Span,
        schema: Span,
    },
    /// A column whose schema field has a type that cannot hold the declared one.
    FieldType {
        column: String,
        declared: String,
        found: String,
        /// The schema types that hold the declared type, as a phrase.
        accepted: String,
        span: Span,
        schema: Span,
    },
    /// The clause's arguments do not fit its format: a missing or extra file or
    /// message, `confluent` on JSON, or an id out of range.
    Arguments {
        format: String,
        problem: String,
        span: Span,
    },
}

impl TopicError {
    pub fn code(&self) -> &'static str {
        match self {
            TopicError::Unreadable { .. } => "E0070",
            TopicError::Invalid { .. } => "E0071",
            TopicError::UnknownMessage { .. } => "E0072",
            TopicError::MissingColumn { .. } => "E0073",
            TopicError::FieldType { .. } => "E0074",
            TopicError::Arguments { .. } => "E0075",
        }
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let d = |message: String| Diagnostic::new(self.code(), message);
        match self {
            TopicError::Unreadable { file, reason, span } => {
                d(format!("cannot read the schema file `{file}`: {reason}"))
                    .with_label(Label::primary(*span, "this file"))
                    .with_help("the path is relative to the folder of the `.feat` file that declares it, as a source's `file` is")
            }
            TopicError::Invalid {
                format,
                file,
                reason,
                span,
            } => d(format!("`{file}` is not a valid {format} schema: {reason}"))
                .with_label(Label::primary(*span, format!("not a valid {format} schema")))
                .with_help(match *format {
                    "Avro" => "an Avro schema here is a record (`{\"type\": \"record\", \"name\": \"E\", \"fields\": [...]}`) with a field per column",
                    _ => "a Protobuf schema here is a `.proto` file (proto2 or proto3, its imports beside it) declaring the message",
                }),
            TopicError::UnknownMessage {
                message,
                file,
                known,
                span,
            } => {
                let help = match known.is_empty() {
                    true => format!("`{file}` declares no message"),
                    false => format!(
                        "name a message by its full name (with its package): {}",
                        known.join(", ")
                    ),
                };
                d(format!("`{file}` has no message `{message}`"))
                    .with_label(Label::primary(*span, "no such message"))
                    .with_help(help)
            }
            TopicError::MissingColumn {
                column,
                file,
                fields,
                span,
                schema,
            } => d(format!("column `{column}` is not a field of the schema in `{file}`"))
                .with_label(Label::primary(*span, "declared here"))
                .with_label(Label::secondary(*schema, "records of this schema"))
                .with_help(format!(
                    "every column is read from the field of its name; the schema's fields are: {}",
                    fields.join(", ")
                )),
            TopicError::FieldType {
                column,
                declared,
                found,
                accepted,
                span,
                schema,
            } => d(format!(
                "column `{column}` is `{declared}`, but its field in the schema is `{found}`"
            ))
            .with_label(Label::primary(*span, format!("declared `{declared}`")))
            .with_label(Label::secondary(*schema, format!("the field is `{found}` here")))
            .with_help(format!("a column of type `{declared}` reads {accepted}")),
            TopicError::Arguments {
                format,
                problem,
                span,
            } => d(format!("`format {format}`: {problem}"))
                .with_label(Label::primary(*span, "this format clause"))
                .with_help("the forms are `format json`, `format avro \"schema.avsc\"` and `format protobuf \"file.proto\" \"Message\"`; Avro and Protobuf records framed by a schema registry add `confluent ID`"),
        }
    }
}
