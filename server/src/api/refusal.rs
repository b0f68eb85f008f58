//! The core's refusals in the request's terms: the one place a `PushError` or a
//! `ReadError` becomes an `ApiError` (which field, which status).

use featc_runtime::stream::StreamError;

use super::bad;
use super::error::{ApiError, Overload};
use crate::state::{PushError, ReadError};
use crate::wire::time::format_time;

/// Why a push was not acknowledged, in the request's terms: its rows are `df`.
pub fn push_refusal(e: PushError) -> ApiError {
    match e {
        PushError::UnknownSource { name, suggestion } => {
            ApiError::UnknownSource { name, suggestion }
        }
        PushError::UndeclaredColumn {
            source,
            column,
            suggestion,
        } => ApiError::UnknownColumn {
            source,
            column,
            suggestion,
        },
        PushError::Refused { source, error } => refused_rows(source, *error),
        PushError::FutureEvent(e) => {
            let (row, time) = e.first();
            ApiError::FutureEvent {
                field: format!("df.{}", e.column),
                row,
                message: e.reason(time),
            }
        }
        PushError::Storage(e) => ApiError::Storage(e.to_string()),
        e @ PushError::FirstRefused => ApiError::Refused(e.to_string()),
        PushError::Stopped => ApiError::ShuttingDown,
    }
}

/// The runtime's reason for refusing a push's rows.
fn refused_rows(source: String, e: StreamError) -> ApiError {
    match e {
        StreamError::MissingColumn { column, .. } => ApiError::MissingColumn { source, column },
        StreamError::Data {
            column,
            row,
            message,
            ..
        } if !column.is_empty() => ApiError::BadValue {
            field: format!("df.{column}"),
            row,
            message,
        },
        // A column of an Arrow type that cannot be read as the declared one (JSON
        // pushes are typed cell by cell, so only Arrow pushes meet this).
        StreamError::ColumnType {
            column, message, ..
        } if !column.is_empty() => ApiError::BadField {
            field: format!("df.{column}"),
            message,
        },
        // Not bad data: the looked-up sources are behind. The producer retries
        // after feeding them, so it is an overload (429), not a 422.
        StreamError::HeldFull {
            source,
            held,
            incoming,
            limit,
        } => ApiError::Overloaded(Overload::HeldRows {
            source,
            held,
            incoming,
            limit,
        }),
        other => ApiError::Refused(other.to_string()),
    }
}

/// A read the core refused, in the request's terms: its rows are the `entities`.
pub fn read_refusal(e: ReadError) -> ApiError {
    match e {
        ReadError::BeforeHorizon { at, horizon } => ApiError::ReadBeforeHorizon {
            at: format_time(at),
            horizon: format_time(horizon),
        },
        ReadError::Refused(StreamError::MissingColumn { column, .. }) => {
            ApiError::MissingField(format!("entities.{column}"))
        }
        ReadError::Refused(StreamError::ColumnType {
            column, message, ..
        }) if !column.is_empty() => bad(&format!("entities.{column}"), message),
        ReadError::Refused(other) => bad("entities", other.to_string()),
    }
}
