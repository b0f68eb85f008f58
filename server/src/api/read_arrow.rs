//! `POST /get-online-features` with an Arrow body: the rows to read (entity keys and
//! request fields as columns, by name) in an Arrow IPC stream, the features in the
//! query string (`features=a,b` or `feature_service=NAME`, neither: every feature),
//! with `at` (RFC 3339 or integer microseconds; default: now under the server's
//! clock) and `statuses` (`true` by default). The answer is the table the embedded
//! store answers (`table_read`): key columns, feature columns typed as in a training
//! set, `FEATURE__status` columns, the read time and errors in its metadata.

use axum::body::Bytes;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use featc_runtime::stream::StreamError;

use super::arrow::{self, param};
use super::error::ApiError;
use super::{authorize, bad, body_of, Access};
use crate::online::Online;
use crate::table_read::read_table_keeping;
use crate::time::{format_time, parse_time_text};

/// The query parameters of an Arrow read.
const PARAMS: [&str; 4] = ["features", "feature_service", "at", "statuses"];

pub fn answer(
    online: &Online,
    headers: &HeaderMap,
    uri: &Uri,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(online, headers, Access::Read)?;
    online.require_ready()?;
    let body = body_of(body, online.config.body_limit)?;
    let params = arrow::query(uri, &PARAMS)?;
    let features = features(online, &params)?;
    let at = match param(&params, "at") {
        None => None,
        Some(text) => Some(time_param(text).map_err(|m| bad("at", m))?),
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
    let rows = arrow::decode(&body)?;
    if rows.num_rows() > online.config.max_entities {
        return Err(ApiError::TooManyEntities {
            found: rows.num_rows(),
            limit: online.config.max_entities,
        });
    }
    // The answered vectors are kept only for the served log; the fill counts of
    // /metrics come from the answer's columns either way.
    let keep = online.served.logging();
    let (at, (read, answered)) = online
        .state
        .read(|rt| {
            let t = at.unwrap_or_else(|| online.now(&*rt));
            read_table_keeping(rt, &online.catalog, &features, &rows, t, keep).map(|r| (t, r))
        })
        .map_err(refusal)?;
    online
        .stats
        .entities_read
        .fetch_add(rows.num_rows() as u64, std::sync::atomic::Ordering::Relaxed);
    online.served.count_columns(&features, &read.columns);
    if let Some(answered) = answered {
        online
            .served
            .log(&features, &answered.keys, &answered.vectors);
    }
    let batch = read
        .into_batch(at, statuses)
        .map_err(|e| ApiError::Storage(format!("cannot build the answer: {e}")))?;
    arrow::answer(&batch)
}

/// The catalog indices of the features the query names.
fn features(online: &Online, params: &[(&str, String)]) -> Result<Vec<usize>, ApiError> {
    let catalog = &online.catalog;
    match (param(params, "features"), param(params, "feature_service")) {
        (Some(_), Some(_)) => Err(bad(
            "feature_service",
            "give either `features` or `feature_service`, not both",
        )),
        (Some(list), None) => list
            .split(',')
            .map(str::trim)
            .enumerate()
            .map(|(i, name)| {
                catalog
                    .feature(name)
                    .map_err(|suggestion| ApiError::UnknownFeature {
                        field: format!("features[{i}]"),
                        name: name.to_string(),
                        suggestion,
                    })
            })
            .collect(),
        (None, Some(name)) => catalog
            .service(name)
            .map(<[usize]>::to_vec)
            .map_err(|suggestion| ApiError::UnknownService {
                name: name.to_string(),
                suggestion,
            }),
        (None, None) => Ok((0..catalog.features.len()).collect()),
    }
}

/// A time in the query string: integer microseconds, or RFC 3339 text.
fn time_param(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(us) => Ok(us),
        Err(_) => parse_time_text(text),
    }
}

/// A read the runtime refused, in the request's terms: the rows are the `entities`.
fn refusal(e: StreamError) -> ApiError {
    match e {
        StreamError::ReadBeforeHorizon { at, horizon } => ApiError::ReadBeforeHorizon {
            at: format_time(at),
            horizon: format_time(horizon),
        },
        StreamError::MissingColumn { column, .. } => {
            ApiError::MissingField(format!("entities.{column}"))
        }
        StreamError::ColumnType {
            column, message, ..
        } if !column.is_empty() => bad(&format!("entities.{column}"), message),
        other => bad("entities", other.to_string()),
    }
}
