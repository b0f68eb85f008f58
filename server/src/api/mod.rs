//! The HTTP API, the only module that knows HTTP: the routes, and what every route
//! shares (`App`: the doors to the core, tokens, body limit; the timing and counting
//! of answers). One file per route family: `read`, `push`, `ops`, Feast's
//! `/write-to-online-store` in `feast_write`; reads and pushes
//! with Arrow bodies (`featc.Client`'s) in `read_arrow`, `push_arrow` and `arrow`;
//! refusals as data in `error`, the core's refusals mapped to them in `refusal`; the
//! bounds of the server's resources in `connections` (the listener), `guard` (every
//! request, before its body is read) and `arrow_bounds` (Arrow bodies);
//! `health_listener` serves `/health` on an address of its own (`--health-listen`);
//! `dispatch` hands each request to the router, except reads, answered without it.

pub mod app;
pub mod arrow;
pub mod arrow_bounds;
pub mod connections;
pub mod dead_letters;
pub mod dispatch;
pub mod error;
pub mod feast_write;
pub mod guard;
pub mod health_listener;
pub mod ops;
pub mod push;
pub mod push_arrow;
pub mod read;
pub mod read_arrow;
pub mod read_plans;
pub mod refusal;
pub mod route;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::metrics::RouteStats;
pub use app::{App, Limits, Phase};
use error::ApiError;

/// The server's routes over `app`.
pub fn router(app: Arc<App>) -> Router {
    // The limit is enforced by the handlers (a JSON 413), so axum's own is lifted
    // just above it.
    let limit = app.limits.body_limit.saturating_add(1);
    Router::new()
        .route(read::PATH, post(read::handle))
        .route("/push", post(push::handle))
        .route("/featc/partition-read", post(route::partition_read))
        .route("/write-to-online-store", post(feast_write::handle))
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/dead-letters", get(dead_letters::list))
        .route("/kafka/dead-letters", get(dead_letters::kafka))
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            guard::guard,
        ))
        .with_state(app)
}

/// What a connection past `--max-connections` is answered (`connections`): `/health`
/// as usual, anything else a 503 `too_many_connections` (its body is never read).
pub fn overflow_router(app: Arc<App>) -> Router {
    Router::new()
        .route("/health", get(ops::health))
        .fallback(ops::too_many_connections)
        .with_state(app)
}

/// Which token a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Push,
}

/// Checks the bearer token of a route that requires one (counting refusals).
pub fn authorize(app: &App, headers: &HeaderMap, access: Access) -> Result<(), ApiError> {
    let required = match access {
        Access::Read => &app.limits.read_token,
        Access::Push => &app.limits.push_token,
    };
    let Some(token) = required else { return Ok(()) };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if same_secret(g.as_bytes(), token.as_bytes()) => Ok(()),
        _ => {
            app.counters.unauthorized.fetch_add(1, Ordering::Relaxed);
            Err(ApiError::Unauthorized)
        }
    }
}

/// A field of the wrong shape.
pub fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadField {
        field: field.into(),
        message: message.into(),
    }
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The body, or the reason it could not be read (413 above the limit).
pub fn body_of(
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    limit: usize,
) -> Result<Bytes, ApiError> {
    within_limit(body.map_err(|e| unread(&e, limit)), limit)
}

/// Why axum could not read a body (413 above the limit).
pub fn unread(e: &axum::extract::rejection::BytesRejection, limit: usize) -> ApiError {
    match e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        true => ApiError::BodyTooLarge { limit },
        false => ApiError::BadJson(e.body_text()),
    }
}

/// A body read (or the reason it was not), refused past `limit` bytes.
pub fn within_limit(body: Result<Bytes, ApiError>, limit: usize) -> Result<Bytes, ApiError> {
    match body {
        Ok(b) if b.len() > limit => Err(ApiError::BodyTooLarge { limit }),
        other => other,
    }
}

/// A request body as a JSON object with only the `fields` it may have (an unknown
/// one is refused with the closest known name).
pub fn json_object(
    body: &[u8],
    fields: &[&str],
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadJson(e.to_string()))?;
    let serde_json::Value::Object(map) = json else {
        return Err(ApiError::BadField {
            field: String::new(),
            message: format!(
                "expected a JSON object, found {}",
                crate::wire::time::kind_of(&json)
            ),
        });
    };
    if let Some(k) = map.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(ApiError::UnknownField {
            field: k.clone(),
            suggestion: crate::names::closest(k, fields.iter().copied()),
        });
    }
    Ok(map)
}

/// The columns of one request must all have the length of the first one seen.
#[derive(Debug, Default)]
pub struct SameLength {
    first: Option<(usize, String)>,
}

impl SameLength {
    /// Records column `field` of `len` values, or refuses it.
    pub fn check(&mut self, field: &str, len: usize) -> Result<(), ApiError> {
        match &self.first {
            None => self.first = Some((len, field.to_string())),
            Some((n, first)) if *n != len => {
                return Err(ApiError::Lengths {
                    field: field.to_string(),
                    first: first.clone(),
                    expected: *n,
                    found: len,
                })
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// The common length (`None` before any column).
    pub fn rows(&self) -> Option<usize> {
        self.first.as_ref().map(|(n, _)| *n)
    }
}

/// Counts and times an answer.
pub fn finish(
    stats: &RouteStats,
    started: Instant,
    answer: Result<Response, ApiError>,
) -> Response {
    let response = answer.unwrap_or_else(IntoResponse::into_response);
    stats.record(response.status().as_u16(), started.elapsed());
    response
}
