//! `POST /get-online-features` with an Arrow body: the rows to read (entity keys and
//! request fields as columns, by name) in an Arrow IPC stream, the features in the
//! query string (`features=a,b` or `feature_service=NAME`, neither: every feature),
//! with `at` (RFC 3339 or integer microseconds; default: now under the server's
//! clock) and `statuses` (`true` by default). The answer is the table the embedded
//! store answers (`state::table`): key columns, feature columns typed as in a
//! training set, `FEATURE__status` columns, the read time and errors in its metadata.

use axum::body::Bytes;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use super::arrow::{self, param};
use super::arrow_bounds::Bounds;
use super::error::ApiError;
use super::read::indices_of;
use super::read_plans::Named;
use super::refusal::read_refusal;
use super::{authorize, bad, within_limit, Access, App};
use crate::wire::time::{parse_time_text, TimeError};

/// The query parameters of an Arrow read.
const PARAMS: [&str; 4] = ["features", "feature_service", "at", "statuses"];

pub fn answer(
    app: &App,
    headers: &HeaderMap,
    uri: &Uri,
    body: Result<Bytes, ApiError>,
) -> Result<Response, ApiError> {
    authorize(app, headers, Access::Read)?;
    app.require_ready()?;
    let body = within_limit(body, app.limits.body_limit)?;
    let params = arrow::query(uri, &PARAMS)?;
    let features = features(app, &params)?;
    let at = match param(&params, "at") {
        None => None,
        Some(text) => Some(time_param(text).map_err(|e| bad("at", e.to_string()))?),
    };
    let statuses = match param(&params, "statuses") {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(bad(
                "statuses",
                format!("expected true or false, found `{other}`"),
            ))
        }
    };
    // Bounded by its bytes like a push's (the rows a read may ask for are counted
    // once decoded, as a JSON read's are).
    let bounds = Bounds {
        bytes: app.limits.body_limit,
        values: app.limits.body_limit,
    };
    let rows = arrow::decode(&body, bounds)?;
    if rows.num_rows() > app.limits.max_entities {
        return Err(ApiError::TooManyEntities {
            found: rows.num_rows(),
            limit: app.limits.max_entities,
        });
    }
    let (at, read) = app
        .state
        .read_table(features, &rows, at)
        .map_err(read_refusal)?;
    app.counters
        .entities_read
        .fetch_add(rows.num_rows() as u64, std::sync::atomic::Ordering::Relaxed);
    let batch = read
        .into_batch(at, statuses)
        .map_err(|e| ApiError::Storage(format!("cannot build the answer: {e}")))?;
    arrow::answer(&batch)
}

/// The indices of the features the query names.
fn features(app: &App, params: &[(&str, String)]) -> Result<Vec<usize>, ApiError> {
    let known = app.state.names();
    match (param(params, "features"), param(params, "feature_service")) {
        (Some(_), Some(_)) => Err(bad(
            "feature_service",
            "give either `features` or `feature_service`, not both",
        )),
        (Some(list), None) => {
            let names: Vec<&str> = list.split(',').map(str::trim).collect();
            indices_of(known, Named::Features(&names))
        }
        (None, Some(name)) => indices_of(known, Named::Service(name)),
        (None, None) => Ok((0..known.features.len()).collect()),
    }
}

/// A time in the query string: integer microseconds (16 digits, the rule of
/// `epoch_micros` without a unit), or RFC 3339 text.
fn time_param(text: &str) -> Result<i64, TimeError> {
    match text.trim().parse::<i64>() {
        Ok(us) => featc_runtime::row::time::epoch_micros(us, None).map_err(TimeError::Integer),
        Err(_) => parse_time_text(text),
    }
}
