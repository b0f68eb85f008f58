//! Errors of the HTTP API as data: each names the request field at fault (`at`,
//! `features[2]`, `entities.user_id[7]`, `df.amount[12]`, ...) and renders, in one
//! place, with a 4xx status (or 503 while the server cannot answer, 500 when its own
//! disk fails). The body has the shape of Feast's feature server errors (a JSON
//! string holding `{"module", "class", "message"}`, which Feast's client raises as
//! that `feast.errors` class with the message), with featc's `code` and `field` beside
//! them. Tokens never appear in them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value as Json};

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The body is not JSON (serde_json's message has the line and column).
    BadJson(String),
    /// A field has the wrong shape (`field`, what was expected).
    BadField {
        field: String,
        message: String,
    },
    /// A required field is absent.
    MissingField(String),
    /// A value the request may have in Feast's protocol but featc cannot honour
    /// (`field`, why, what to do instead).
    Unsupported {
        field: String,
        message: String,
    },
    /// A top-level field the request does not have.
    UnknownField {
        field: String,
        suggestion: Option<String>,
    },
    UnknownFeature {
        field: String,
        name: String,
        suggestion: Option<String>,
    },
    UnknownService {
        name: String,
        suggestion: Option<String>,
    },
    UnknownSource {
        name: String,
        suggestion: Option<String>,
    },
    /// A Feast write (`/write-to-online-store`) names no featc source: a featc view
    /// (`is_view`: its values are computed, not written) or nothing featc has.
    NotASource {
        name: String,
        is_view: bool,
        /// The project's sources, the names such a write may use.
        sources: Vec<String>,
        suggestion: Option<String>,
    },
    /// A read needs this key column of this entity and the request lacks it.
    MissingKeyColumn {
        column: String,
        entity: String,
    },
    /// A push's `df` lacks a column the source declares (and the graph reads).
    MissingColumn {
        source: String,
        column: String,
    },
    /// A push's `df` has a column the source does not declare.
    UnknownColumn {
        source: String,
        column: String,
        suggestion: Option<String>,
    },
    /// A value of a read key or a pushed row does not fit its column.
    BadValue {
        field: String,
        row: usize,
        message: String,
    },
    /// A pushed row's event time is past `--max-future` ahead of the wall clock
    /// (`field` is the time column, `message` says the time and the bound).
    FutureEvent {
        field: String,
        row: usize,
        message: String,
    },
    /// Columns of one request have different lengths (`first` set the length).
    Lengths {
        field: String,
        first: String,
        expected: usize,
        found: usize,
    },
    TooManyEntities {
        found: usize,
        limit: usize,
    },
    /// The read time is before what the online state can still answer.
    ReadBeforeHorizon {
        at: String,
        horizon: String,
    },
    /// The runtime refused the batch (names the source, column and row).
    Refused(String),
    Unauthorized,
    BodyTooLarge {
        limit: usize,
    },
    NotFound(String),
    /// The server is loading history; it answers once ready.
    Bootstrapping {
        done: u64,
        total: u64,
    },
    ShuttingDown,
    /// The server's own storage failed: nothing was acknowledged.
    Storage(String),
    /// Group mode: the partition holding a key is in hand-over, or its owner cannot
    /// be reached; nothing of partial state is answered.
    PartitionUnavailable {
        entity: String,
        partition: i32,
        reason: String,
    },
    /// Group mode: events reach the state through the sources' topics only.
    PushInGroupMode,
    /// A bound of the server's resources is reached (`--max-connections`, ...):
    /// nothing was done; the client should retry after `RETRY_AFTER_SECONDS`.
    Overloaded(Overload),
}

/// Which bound of the server's resources refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overload {
    /// `--max-connections` connections are open.
    Connections { limit: u32 },
    /// `--max-in-flight` requests are being handled.
    InFlight { limit: u32 },
    /// `--max-queued-pushes` pushes wait for the writer.
    PushQueue { limit: u32 },
    /// `--max-held-rows` events (`held` of them now) wait for their as-of lookups'
    /// sources; a push of `incoming` more of `source`'s events would pass it.
    HeldRows {
        source: String,
        held: usize,
        incoming: usize,
        limit: u64,
    },
}

/// The `Retry-After` an overloaded server answers with, in seconds.
pub const RETRY_AFTER_SECONDS: u32 = 1;

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::UnknownFeature { .. }
            | ApiError::UnknownService { .. }
            | ApiError::UnknownSource { .. }
            | ApiError::NotASource { is_view: false, .. } => StatusCode::NOT_FOUND,
            ApiError::ReadBeforeHorizon { .. } | ApiError::PushInGroupMode => StatusCode::CONFLICT,
            ApiError::Refused(_) | ApiError::BadValue { .. } | ApiError::FutureEvent { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Bootstrapping { .. }
            | ApiError::ShuttingDown
            | ApiError::PartitionUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Overloaded(Overload::PushQueue { .. } | Overload::HeldRows { .. }) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadJson(_) => "bad_json",
            ApiError::BadField { .. } => "bad_field",
            ApiError::Unsupported { .. } => "unsupported",
            ApiError::MissingField(_) => "missing_field",
            ApiError::UnknownField { .. } => "unknown_field",
            ApiError::UnknownFeature { .. } => "unknown_feature",
            ApiError::UnknownService { .. } => "unknown_service",
            ApiError::UnknownSource { .. } => "unknown_source",
            ApiError::NotASource { is_view: true, .. } => "view_not_writable",
            ApiError::NotASource { is_view: false, .. } => "unknown_source",
            ApiError::MissingKeyColumn { .. } => "missing_key_column",
            ApiError::MissingColumn { .. } => "missing_column",
            ApiError::UnknownColumn { .. } => "unknown_column",
            ApiError::BadValue { .. } => "bad_value",
            ApiError::FutureEvent { .. } => "future_event",
            ApiError::Lengths { .. } => "length_mismatch",
            ApiError::TooManyEntities { .. } => "too_many_entities",
            ApiError::ReadBeforeHorizon { .. } => "read_before_horizon",
            ApiError::Refused(_) => "refused",
            ApiError::Unauthorized => "unauthorized",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::NotFound(_) => "not_found",
            ApiError::Bootstrapping { .. } => "bootstrapping",
            ApiError::ShuttingDown => "shutting_down",
            ApiError::PartitionUnavailable { .. } => "partition_unavailable",
            ApiError::PushInGroupMode => "push_in_group_mode",
            ApiError::Storage(_) => "storage",
            ApiError::Overloaded(Overload::Connections { .. }) => "too_many_connections",
            ApiError::Overloaded(Overload::InFlight { .. }) => "too_many_requests",
            ApiError::Overloaded(Overload::PushQueue { .. }) => "push_queue_full",
            ApiError::Overloaded(Overload::HeldRows { .. }) => "held_rows_full",
        }
    }

    /// The request field at fault, when there is one.
    pub fn field(&self) -> Option<String> {
        match self {
            ApiError::BadField { field, .. }
            | ApiError::Unsupported { field, .. }
            | ApiError::UnknownField { field, .. }
            | ApiError::UnknownFeature { field, .. }
            | ApiError::Lengths { field, .. } => Some(field.clone()),
            ApiError::MissingField(field) => Some(field.clone()),
            ApiError::BadValue { field, row, .. } | ApiError::FutureEvent { field, row, .. } => {
                Some(format!("{field}[{row}]"))
            }
            ApiError::UnknownService { .. } => Some("feature_service".into()),
            ApiError::UnknownSource { .. } => Some("push_source_name".into()),
            ApiError::NotASource { .. } => Some("feature_view_name".into()),
            ApiError::MissingKeyColumn { column, .. } => Some(format!("entities.{column}")),
            ApiError::MissingColumn { column, .. } | ApiError::UnknownColumn { column, .. } => {
                Some(format!("df.{column}"))
            }
            ApiError::TooManyEntities { .. } => Some("entities".into()),
            ApiError::ReadBeforeHorizon { .. } => Some("at".into()),
            _ => None,
        }
    }

    pub fn message(&self) -> String {
        let hint = |s: &Option<String>| match s {
            Some(s) => format!(" (did you mean `{s}`?)"),
            None => String::new(),
        };
        match self {
            ApiError::BadJson(m) => format!("the body is not valid JSON: {m}"),
            ApiError::BadField { field, message } | ApiError::Unsupported { field, message } => {
                format!("`{field}`: {message}")
            }
            ApiError::MissingField(field) => format!("the request has no `{field}`"),
            ApiError::UnknownField { field, suggestion } => {
                format!("unknown field `{field}`{}", hint(suggestion))
            }
            ApiError::UnknownFeature { name, suggestion, .. } => {
                format!("unknown feature `{name}`{}", hint(suggestion))
            }
            ApiError::UnknownService { name, suggestion } => {
                format!("unknown feature service `{name}`{}", hint(suggestion))
            }
            ApiError::UnknownSource { name, suggestion } => {
                format!("unknown push source `{name}`{}", hint(suggestion))
            }
            ApiError::NotASource {
                name,
                is_view,
                sources,
                suggestion,
            } => {
                let what = match is_view {
                    true => format!(
                        "`{name}` is a featc view: its values are computed from its source's events, so they cannot be written, and Feast writes each push once per view"
                    ),
                    false => format!("`{name}` is not a featc source{}", hint(suggestion)),
                };
                format!(
                    "{what}; write the events of a source instead (a Feast FeatureView named after the source, with its columns, fed by a PushSource: docs/serving.md, \"Feast\"); the sources are: {}",
                    sources.join(", ")
                )
            }
            ApiError::MissingKeyColumn { column, entity } => format!(
                "`entities` has no `{column}`: the requested features of entity `{entity}` are keyed by it"
            ),
            ApiError::MissingColumn { source, column } => {
                format!("`df` has no column `{column}`, which source `{source}` declares")
            }
            ApiError::UnknownColumn { source, column, suggestion } => format!(
                "`df` has a column `{column}` that source `{source}` does not declare{}",
                hint(suggestion)
            ),
            ApiError::BadValue { field, row, message } => {
                format!("`{field}` row {row}: {message}")
            }
            ApiError::FutureEvent { field, row, message } => format!(
                "`{field}` row {row}: {message}; the push was refused, nothing of it was applied"
            ),
            ApiError::Lengths { field, first, expected, found } => format!(
                "`{field}` has {found} values where `{first}` has {expected}"
            ),
            ApiError::TooManyEntities { found, limit } => {
                format!("{found} entities in one read; at most {limit} are allowed")
            }
            ApiError::ReadBeforeHorizon { at, horizon } => format!(
                "cannot read at {at}: the online state only answers reads at or after {horizon} (the watermark)"
            ),
            ApiError::Refused(m) => format!("the push was refused, nothing of it was applied: {m}"),
            ApiError::Unauthorized => {
                "missing or wrong token: send `Authorization: Bearer <token>`".into()
            }
            ApiError::BodyTooLarge { limit } => {
                format!("the body is larger than the limit of {limit} bytes")
            }
            ApiError::NotFound(path) => format!(
                "no route `{path}` (routes: POST /get-online-features, POST /push, POST /write-to-online-store, GET /health, GET /metrics)"
            ),
            ApiError::Bootstrapping { done, total } => format!(
                "the server is loading history ({done} of {total} events); it answers once ready (see GET /health)"
            ),
            ApiError::ShuttingDown => "the server is shutting down".into(),
            ApiError::PartitionUnavailable {
                entity,
                partition,
                reason,
            } => format!(
                "partition {partition} of entity `{entity}` cannot answer now ({reason}); \
                 retry shortly: it answers once its new owner has restored it"
            ),
            ApiError::PushInGroupMode => "this server runs in group mode (--kafka-group with \
                --state-store): events reach the state through the sources' Kafka topics \
                only; produce them there"
                .into(),
            ApiError::Storage(m) => {
                format!("the state directory failed; nothing was acknowledged: {m}")
            }
            ApiError::Overloaded(Overload::Connections { limit }) => format!(
                "the server has {limit} connections open, its limit (--max-connections); retry later"
            ),
            ApiError::Overloaded(Overload::InFlight { limit }) => format!(
                "the server is handling {limit} requests, its limit (--max-in-flight); retry later"
            ),
            ApiError::Overloaded(Overload::PushQueue { limit }) => format!(
                "{limit} pushes wait for the writer, its limit (--max-queued-pushes); nothing of this one was applied, retry later"
            ),
            ApiError::Overloaded(Overload::HeldRows { source, held, incoming, limit }) => format!(
                "{held} events wait for their as-of lookups' sources and {incoming} more of `{source}` would pass the limit of {limit} (--max-held-rows); nothing of this push was applied: push the looked-up sources' events first, then retry"
            ),
        }
    }
}

impl ApiError {
    /// The `feast.errors` class Feast's client raises for this refusal: Feast's own
    /// where one means the same, else `FeastError` (every one is a `FeastError`).
    pub fn feast_class(&self) -> &'static str {
        match self {
            ApiError::UnknownFeature { .. } => "FeastObjectNotFoundException",
            ApiError::UnknownService { .. } => "FeatureServiceNotFoundException",
            ApiError::UnknownSource { .. } => "PushSourceNotFoundException",
            ApiError::NotASource { is_view: false, .. } => "FeatureViewNotFoundException",
            ApiError::MissingKeyColumn { .. } => "FeastEntityDFMissingColumnsError",
            ApiError::MissingField(field) if field.starts_with("request_context.") => {
                "RequestDataNotFoundInEntityRowsException"
            }
            ApiError::Unauthorized => "FeastPermissionError",
            _ => "FeastError",
        }
    }

    /// The body: Feast's error detail (`FeastError.to_error_detail`, a JSON object
    /// as a JSON string) with featc's `code` and `field` in it.
    pub fn body(&self) -> String {
        let detail = json!({
            "module": "feast.errors",
            "class": self.feast_class(),
            "message": self.message(),
            "code": self.code(),
            "field": self.field(),
        });
        Json::String(detail.to_string()).to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status(),
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response();
        if matches!(self, ApiError::Overloaded(_)) {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_feasts_error_detail_with_featcs_code_and_field() {
        let e = ApiError::UnknownFeature {
            field: "features[1]".into(),
            name: "txn_count_7".into(),
            suggestion: Some("txn_count_7d".into()),
        };
        let Json::String(detail) = serde_json::from_str(&e.body()).unwrap() else {
            panic!("a JSON string")
        };
        let detail: Json = serde_json::from_str(&detail).unwrap();
        assert_eq!(
            detail,
            json!({
                "module": "feast.errors",
                "class": "FeastObjectNotFoundException",
                "message": "unknown feature `txn_count_7` (did you mean `txn_count_7d`?)",
                "code": "unknown_feature",
                "field": "features[1]",
            })
        );
    }
}
