//! `POST /push` with an Arrow body: a source's events as an Arrow IPC stream, the
//! source in the query string (`push_source_name=NAME`, and optionally `to=online`).
//! Checked exactly as the embedded store checks a push (a column the source does not
//! declare is refused, like a JSON push's; the rest is the runtime's `check`: types,
//! nullability, every expression on every row), then handed to the writer like a
//! JSON push: logged, applied, answered with the same JSON.

use axum::body::Bytes;
use axum::http::Uri;

use super::arrow::{self, param};
use super::arrow_bounds::Bounds;
use super::error::ApiError;
use super::refusal::push_refusal;
use super::{bad, App};
use crate::state::CheckedPush;

/// The query parameters of an Arrow push.
pub const PARAMS: [&str; 2] = ["push_source_name", "to"];

/// Checks an Arrow push into a push the writer can log and apply.
pub fn parse(
    app: &App,
    params: &[(&str, String)],
    body: &Bytes,
    key: Option<String>,
) -> Result<CheckedPush, ApiError> {
    match param(params, "to") {
        None | Some("online") => {}
        Some(other) => {
            return Err(bad(
                "to",
                format!("featc serves online state only: expected `online`, found `{other}`"),
            ))
        }
    }
    let name = param(params, "push_source_name")
        .ok_or_else(|| ApiError::MissingField("push_source_name".into()))?;
    let source = app
        .state
        .names()
        .source(name)
        .map_err(|suggestion| ApiError::UnknownSource {
            name: name.to_string(),
            suggestion,
        })?;
    // A push's rows are bounded by its bytes: no column may declare more values.
    let bounds = Bounds {
        bytes: app.limits.body_limit,
        values: app.limits.body_limit,
    };
    let batch = arrow::decode(body, bounds)?;
    let checked = app.check.check(&source.name, batch).map_err(push_refusal)?;
    Ok(checked.with_key(key))
}

/// The query parameters of a push, read before the body is decoded (so a bad one is
/// refused without that work).
pub fn params(uri: &Uri) -> Result<Vec<(&'static str, String)>, ApiError> {
    arrow::query(uri, &PARAMS)
}
