//! The typed IR of a featc project: sources, entities, views, features and services,
//! with names resolved, every expression typed, and spans kept for diagnostics.
//!
//! `featc::check` produces it; the reference interpreter, the batch lowering and the
//! stream lowering all consume the same value. It lives in the runtime so that an
//! embedding pipeline needs only this crate (it is plain serde data).
//!
//! Invariants a checked `Project` upholds (consumers may rely on them):
//! - names are unique: sources, entities, views and services each in their own
//!   namespace; feature names across the whole project;
//! - every `Expr` is well typed, `ty` is its result type and `nullable` is true when
//!   it can evaluate to null;
//! - a view's `filter`, a feature's `filter` and `count_if`'s argument are `Bool`;
//! - `arg` is `None` exactly for `count(*)`; its type is accepted by the aggregation;
//! - windows, ttl and lateness are positive microsecond counts;
//! - `key_columns` has one source column per entity key column, of the same type;
//! - derived features form no cycle; a view's derived feature reads only features of
//!   its view's entity and no request field; a service's may read any feature and the
//!   fields of declared requests; `Derived::reads`/`request_fields` list exactly the
//!   names its expression uses.
//!
//! Files: `types` (the value types), `decimal` (decimal result types), `expr` (typed row expressions, literals,
//! operators), `functions` (the row function catalogue), `aggs` (the aggregation
//! catalogue), `project` (the declarations and feature addresses), `path` (a flat column read out of a struct or map column), `equality`
//! (structural equality and hashing of expressions), `source_span` (source positions).

mod aggs;
mod avro_names;
mod decimal;
mod equality;
mod expr;
mod functions;
mod partition;
mod path;
mod project;
mod source_span;
mod types;

pub use aggs::{AggKind, Quantile};
pub use avro_names::avro_named_types;
pub use decimal::{decimal_type, product_type, sum_result, sum_type, unify_type};
pub use expr::{BinaryOp, Expr, ExprKind, Literal, SOURCE_NAME_COLUMN};
pub use functions::{numeric_list, Arity, Function};
pub use partition::{PartitionUnit, TimePartition};
pub use path::{is_path_column, ColumnPath, PathStep};
pub use project::{
    request_column, Aggregate, AvroFormat, Column, Derived, Entity, EntityId, EpochUnit, Feature,
    FeatureId, FeatureKind, Let, Lookup, Meta, NestedColumn, Project, ProtobufFormat, Request,
    Service, Source, SourceId, Topic, TopicFormat, View,
};
pub use source_span::SourceSpan;
pub use types::{DataType, ListType, Scalar};
