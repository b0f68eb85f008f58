//! `StreamError`: why the streaming executor refused an input, a read or a graph.

use std::fmt;

use super::graph::GraphError;
use crate::agg::FeatureError;
use crate::expr::derived::DerivedColumnsError;
use crate::expr::slots::SlotError;
use crate::expr::ExprError;
use crate::ir::DataType;
use crate::snapshot::SnapshotError;
use crate::window::SpecError;

#[derive(Debug, Clone, PartialEq)]
pub enum StreamError {
    Graph(GraphError),
    /// An aggregate node the window state rejects (an internal error of the lowering).
    Spec {
        feature: String,
        error: SpecError,
    },
    /// A derive or feature expression that could not be planned.
    Expr {
        context: String,
        error: ExprError,
    },
    /// An expression of the plan failed on an ingested event (e.g. an int64
    /// overflow), or could not be compiled for its source's schema.
    Slot(Box<SlotError>),
    UnknownSource(String),
    /// A declared column is missing from an ingested batch (or the spine).
    MissingColumn {
        table: String,
        column: String,
    },
    /// A column whose type cannot be read as the declared one.
    ColumnType {
        table: String,
        column: String,
        message: String,
    },
    /// A read at a time before the horizon the runtime already promised (state no
    /// read at or after the horizon needs was dropped).
    ReadBeforeHorizon {
        at: i64,
        horizon: i64,
    },
    /// A batch would make the rows waiting for their as-of lookups more than
    /// `Options::max_held_rows` (refused whole, before anything is applied).
    HeldFull {
        source: String,
        held: usize,
        incoming: usize,
        limit: u64,
    },
    /// A row that does not fit the declared schema (wrong type, null where not allowed).
    Data {
        table: String,
        column: String,
        row: usize,
        message: String,
    },
    UnknownFeature(String),
    UnknownService(String),
    /// A read was given a key of the wrong arity for the selection's entity (or none).
    KeyArity {
        entity: String,
        expected: usize,
        found: usize,
    },
    /// A read by one key (`Keys::Entity`), but the selection spans several entities.
    MixedEntities(Vec<String>),
    /// A replayed feature is named like a spine column.
    NameClash {
        name: String,
    },
    /// An aggregation failed while answering a replay row.
    Agg(FeatureError),
    /// A replay's restart could not snapshot or restore the runtime.
    Snapshot(Box<SnapshotError>),
    /// A read of a derived feature lacks a request field it reads (or gives a null
    /// for a non-nullable one).
    MissingRequestField {
        feature: String,
        request: String,
        field: String,
    },
    /// A request field's value has another type than the request declares.
    RequestFieldType {
        request: String,
        field: String,
        expected: DataType,
        found: &'static str,
    },
    /// Derived features over a replay's spine could not be computed.
    Derived(DerivedColumnsError),
    /// The disk tier's store failed, or gave back an entity's record that does not
    /// decode (`what` says which): an ingest that meets it applies nothing.
    Store {
        what: String,
        message: String,
    },
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Graph(e) => write!(f, "{e}"),
            StreamError::Spec { feature, error } => {
                write!(f, "internal error: feature `{feature}`: {error}")
            }
            StreamError::Expr { context, error } => write!(f, "{context}: {error}"),
            StreamError::Slot(e) => write!(f, "{e}"),
            StreamError::UnknownSource(s) => write!(f, "no source `{s}` in the stream graph"),
            StreamError::MissingColumn { table, column } => {
                write!(f, "`{table}` has no column `{column}`")
            }
            StreamError::ColumnType {
                table,
                column,
                message,
            } => {
                write!(f, "`{table}` column `{column}` {message}")
            }
            StreamError::HeldFull {
                source,
                held,
                incoming,
                limit,
            } => write!(
                f,
                "refused a batch of {incoming} events of `{source}`: {held} events already \
                 wait for their as-of lookups' sources, and at most {limit} may (the \
                 looked-up sources are behind; raise the limit or feed them)"
            ),
            StreamError::ReadBeforeHorizon { at, horizon } => write!(
                f,
                "read at {at} is before the state horizon {horizon} (older state was dropped)"
            ),
            StreamError::Data {
                table,
                column,
                row,
                message,
            } => {
                write!(f, "`{table}` row {row}, column `{column}`: {message}")
            }
            StreamError::UnknownFeature(n) => write!(f, "no feature `{n}` in the stream graph"),
            StreamError::UnknownService(n) => write!(f, "no service `{n}` in the stream graph"),
            StreamError::KeyArity {
                entity,
                expected,
                found,
            } => write!(
                f,
                "entity `{entity}` has {expected} key column(s), the read gave {found}"
            ),
            StreamError::NameClash { name } => write!(
                f,
                "feature `{name}` has the name of a spine column; rename one of them (the \
                 spine's time column with --spine-time)"
            ),
            StreamError::MixedEntities(names) => write!(
                f,
                "the selection spans entities {}; read them with `Keys::ByEntity`",
                names.join(", ")
            ),
            StreamError::Agg(e) => write!(f, "{e}"),
            StreamError::Snapshot(e) => write!(f, "{e}"),
            StreamError::MissingRequestField {
                feature,
                request,
                field,
            } => write!(
                f,
                "feature `{feature}` reads field `{field}` of request `{request}`, which the \
                 read does not give (or gives as null)"
            ),
            StreamError::RequestFieldType {
                request,
                field,
                expected,
                found,
            } => write!(
                f,
                "field `{field}` of request `{request}` is {}, the read gives a {found}",
                expected.name()
            ),
            StreamError::Derived(e) => write!(f, "{e}"),
            StreamError::Store { what, message } => {
                write!(f, "the entity state store failed ({what}): {message}")
            }
        }
    }
}

impl std::error::Error for StreamError {}

/// Why `StreamRuntime::restore` gave no runtime: the bytes are not a snapshot the
/// graph and options can take, or the graph cannot make a runtime at all. The
/// snapshot codec's errors know nothing of the stream layer; this wraps both.
#[derive(Debug, Clone, PartialEq)]
pub enum RestoreError {
    /// The snapshot was refused (see `SnapshotError`).
    Snapshot(SnapshotError),
    /// The graph given to `restore` cannot make a runtime at all.
    Runtime(StreamError),
}

impl From<SnapshotError> for RestoreError {
    fn from(e: SnapshotError) -> RestoreError {
        RestoreError::Snapshot(e)
    }
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreError::Snapshot(e) => write!(f, "{e}"),
            RestoreError::Runtime(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RestoreError {}
