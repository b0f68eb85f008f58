//! `format protobuf "file.proto" "Message"`: the `.proto` file compiled (protox, no
//! protoc; its imports read beside it through the compile's `ReadFile`, Google's
//! well-known types built in) and its message's fields checked against the source's
//! columns, each the field of its name, of a kind that holds the column's values
//! under the JSON records' rules. The IR keeps the compiled descriptors.

use std::sync::Arc;

use featc_grammar::ast;
use featc_runtime::ir::{DataType, ProtobufFormat, TopicFormat};
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use protox::file::{File, FileResolver, GoogleFileResolver};

use super::topic::{SchemaFile, Want, Wanted};
use super::topic_error::TopicError;
use crate::project::{resolve_location, ReadFile};

/// Opens the `.proto` files of one compilation: the main one (already read), its
/// imports from the main file's folder, and Google's well-known types.
struct Resolver {
    /// The main file's name (as imports name files) and its text.
    main: (String, Vec<u8>),
    /// The main file's resolved location: imports are resolved beside it.
    location: String,
    reader: Arc<dyn ReadFile>,
    google: GoogleFileResolver,
}

impl FileResolver for Resolver {
    fn resolve_path(&self, path: &std::path::Path) -> Option<String> {
        Some(path.to_string_lossy().replace('\\', "/"))
    }

    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name.starts_with("google/protobuf/") {
            return self.google.open_file(name);
        }
        let bytes = match name == self.main.0 {
            true => self.main.1.clone(),
            false => self
                .reader
                .read(&resolve_location(&self.location, name))
                .map_err(|_| protox::Error::file_not_found(name))?,
        };
        let text = String::from_utf8(bytes).map_err(|_| protox::Error::file_not_found(name))?;
        File::from_source(name, &text)
    }
}

/// Checks message `message` of the `.proto` file `file` against `wanted`.
pub fn check(
    file: SchemaFile<'_>,
    message: &ast::StringLit,
    confluent: Option<u32>,
    wanted: &[Wanted],
) -> Result<TopicFormat, Vec<TopicError>> {
    let invalid = |reason: String| {
        vec![TopicError::Invalid {
            format: "Protobuf",
            file: file.location.clone(),
            reason,
            span: file.span,
        }]
    };
    let name = std::path::Path::new(&file.location)
        .file_name()
        .map_or_else(
            || file.location.clone(),
            |n| n.to_string_lossy().into_owned(),
        );
    let resolver = Resolver {
        main: (name.clone(), file.bytes.clone()),
        location: file.location.clone(),
        reader: Arc::clone(file.reader),
        google: GoogleFileResolver::new(),
    };
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler
        .open_file(&name)
        .map_err(|e| invalid(e.to_string()))?;
    let pool = compiler.descriptor_pool();
    let Some(descriptor) = pool.get_message_by_name(&message.value) else {
        let known = pool
            .get_file_by_name(&name)
            .map(|f| {
                let mut all = Vec::new();
                for m in f.messages() {
                    with_nested(&m, &mut all);
                }
                all
            })
            .unwrap_or_default();
        return Err(vec![TopicError::UnknownMessage {
            message: message.value.clone(),
            file: file.location.clone(),
            known,
            span: message.span,
        }]);
    };
    let mut errors = Vec::new();
    for w in wanted {
        let Some(field) = descriptor.get_field_by_name(&w.name) else {
            errors.push(TopicError::MissingColumn {
                column: w.name.clone(),
                file: file.location.clone(),
                fields: descriptor.fields().map(|f| f.name().to_string()).collect(),
                span: w.name_span,
                schema: file.span,
            });
            continue;
        };
        if !holds(w.want, &field) {
            errors.push(TopicError::FieldType {
                column: w.name.clone(),
                declared: w.want.name(),
                found: field_type(&field),
                accepted: accepted(w.want),
                span: w.type_span,
                schema: message.span,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(TopicFormat::Protobuf(ProtobufFormat {
        file: file.location,
        message: descriptor.full_name().to_string(),
        descriptors: compiler.encode_file_descriptor_set(),
        confluent,
    }))
}

/// `m` and its nested messages' full names (map entries left out).
fn with_nested(m: &MessageDescriptor, out: &mut Vec<String>) {
    if m.is_map_entry() {
        return;
    }
    out.push(m.full_name().to_string());
    for n in m.child_messages() {
        with_nested(&n, out);
    }
}

/// What a field of a kind holds, with Google's wrappers (`Int64Value`) read as the
/// value they wrap and `Timestamp` as a time.
enum Held {
    Int,
    Float,
    String,
    Bool,
    Timestamp,
    Bytes,
    Message,
}

fn held(kind: &Kind) -> Held {
    match kind {
        Kind::Int32
        | Kind::Int64
        | Kind::Uint32
        | Kind::Uint64
        | Kind::Sint32
        | Kind::Sint64
        | Kind::Fixed32
        | Kind::Fixed64
        | Kind::Sfixed32
        | Kind::Sfixed64 => Held::Int,
        Kind::Float | Kind::Double => Held::Float,
        Kind::String | Kind::Enum(_) => Held::String,
        Kind::Bool => Held::Bool,
        Kind::Bytes => Held::Bytes,
        Kind::Message(m) => match m.full_name() {
            "google.protobuf.Timestamp" => Held::Timestamp,
            "google.protobuf.Int64Value"
            | "google.protobuf.Int32Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.UInt32Value" => Held::Int,
            "google.protobuf.DoubleValue" | "google.protobuf.FloatValue" => Held::Float,
            "google.protobuf.StringValue" => Held::String,
            "google.protobuf.BoolValue" => Held::Bool,
            "google.protobuf.BytesValue" => Held::Bytes,
            _ => Held::Message,
        },
    }
}

/// Whether `field` holds a column that wants `want`.
fn holds(want: Want, field: &FieldDescriptor) -> bool {
    if field.is_map() {
        return want == Want::Map;
    }
    if field.is_list() {
        return match want {
            Want::Type(DataType::List(l)) if !l.counted => {
                holds_scalar(l.item.data_type(), &held(&field.kind()))
            }
            _ => false,
        };
    }
    match want {
        Want::Struct => matches!(held(&field.kind()), Held::Message),
        Want::Map => false,
        Want::Type(ty) => holds_scalar(ty, &held(&field.kind())),
    }
}

fn holds_scalar(ty: DataType, held: &Held) -> bool {
    match ty {
        DataType::Int64 => matches!(held, Held::Int),
        DataType::Float64 => matches!(held, Held::Int | Held::Float),
        DataType::String => matches!(held, Held::String),
        DataType::Bool => matches!(held, Held::Bool),
        DataType::Timestamp => matches!(held, Held::Timestamp | Held::Int | Held::String),
        DataType::Date => matches!(held, Held::String),
        DataType::Decimal { .. } => matches!(held, Held::Int | Held::String),
        DataType::List(_) => false,
    }
}

/// A field's type as a `.proto` file writes it (`repeated int64`, `map<string,
/// double>`, `google.protobuf.Timestamp`).
fn field_type(field: &FieldDescriptor) -> String {
    let kind = |k: &Kind| match k {
        Kind::Message(m) => m.full_name().to_string(),
        Kind::Enum(e) => e.full_name().to_string(),
        other => format!("{other:?}").to_lowercase(),
    };
    if field.is_map() {
        if let Kind::Message(entry) = field.kind() {
            return format!(
                "map<{}, {}>",
                kind(&entry.map_entry_key_field().kind()),
                kind(&entry.map_entry_value_field().kind())
            );
        }
    }
    match field.is_list() {
        true => format!("repeated {}", kind(&field.kind())),
        false => kind(&field.kind()),
    }
}

/// The Protobuf types that hold `want`, as a phrase for the help.
fn accepted(want: Want) -> String {
    let ints = "an integer (`int32`, `int64`, `uint32`, `uint64`, `sint*`, `fixed*`, `sfixed*`)";
    match want {
        Want::Struct => "a message field".into(),
        Want::Map => "a `map<string, ...>` field".into(),
        Want::Type(DataType::Int64) => format!("{ints} or `google.protobuf.Int64Value`"),
        Want::Type(DataType::Float64) => format!("`double`, `float` or {ints}"),
        Want::Type(DataType::String) => "`string` or an enum (its value's name)".into(),
        Want::Type(DataType::Bool) => "`bool`".into(),
        Want::Type(DataType::Timestamp) => format!("`google.protobuf.Timestamp`, {ints} in the source's `epoch` unit, or a `string` in RFC 3339"),
        Want::Type(DataType::Date) => "a `string` such as `2024-03-31`".into(),
        Want::Type(DataType::Decimal { .. }) => format!("a `string` of the decimal or {ints}"),
        Want::Type(DataType::List(l)) => format!(
            "a `repeated` field whose items a `{}` column reads",
            l.item.data_type().name()
        ),
    }
}
