//! `POST /push`: Feast's push (`{"push_source_name": "...", "df": {"col": [...]},
//! "to": "online"}`) into a featc source. The rows are checked against the source's
//! declared columns and the graph's expressions, logged durably, applied, and only
//! then answered: `{"accepted": n, "late": k}`. A push is taken whole or refused
//! whole. An `Idempotency-Key` header makes a retried push answer its first answer
//! instead of being applied twice. Feast's other fields are taken as its server takes
//! them (`allow_registry_cache`, `transform_on_write`: featc has no registry cache or
//! write-time transformations, so both are read and ignored); `to:
//! "online_and_offline"` writes the online part and says the offline part was not
//! written, `to: "offline"` is refused (featc has no offline store to write).
//! `accept` is the route every push body goes through (JSON, Arrow, Feast's
//! `/write-to-online-store`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use featc_runtime::ir::DataType;
use featc_runtime::row::nested_column::json_path;
use featc_runtime::row::types::arrow_type;
use serde_json::{json, Value as Json};

use super::error::{ApiError, Overload};
use super::refusal::push_refusal;
use super::{authorize, bad, body_of, finish, Access, App};
use crate::names::SourceEntry;
use crate::state::CheckedPush;
use crate::wire::json::to_array;
use crate::wire::time::kind_of;

/// The fields a push may have: Feast's `PushFeaturesRequest`.
const FIELDS: [&str; 5] = [
    "push_source_name",
    "df",
    "to",
    "allow_registry_cache",
    "transform_on_write",
];

/// Where a push's rows were asked to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Online,
    /// Feast's `online_and_offline`: the online part is written, the offline part
    /// cannot be (the answer says `"offline": false`).
    OnlineNotOffline,
}

/// A push body checked, and where it was asked to go.
pub type Parsed = Result<(CheckedPush, Destination), ApiError>;

/// The longest idempotency key accepted.
const MAX_KEY: usize = 256;

pub async fn handle(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    // An Arrow push has its parameters in the query string (docs/serving.md).
    let arrow = super::arrow::is_arrow(&headers);
    accept(app, headers, body, move |app, body, key| match arrow {
        true => {
            let params = super::push_arrow::params(&uri)?;
            super::push_arrow::parse(app, &params, body, key).map(|p| (p, Destination::Online))
        }
        false => parse(app, body, key),
    })
    .await
}

/// Answers a push whose body `read` checks: token, readiness, body limit and
/// idempotency key first, then `read` off the async threads, then the writer; the
/// answer is counted and timed as a push.
pub async fn accept<F>(
    app: Arc<App>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    read: F,
) -> Response
where
    F: FnOnce(&App, &Bytes, Option<String>) -> Parsed + Send + 'static,
{
    let started = std::time::Instant::now();
    let answer = answer(&app, &headers, body, read).await;
    if matches!(&answer, Err(e) if e.status().is_client_error() && !matches!(e, ApiError::Unauthorized))
    {
        app.counters
            .pushes_refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    if matches!(
        &answer,
        Err(ApiError::Overloaded(Overload::HeldRows { .. }))
    ) {
        app.counters
            .overloaded
            .held_rows
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    finish(&app.counters.pushes, started, answer)
}

async fn answer<F>(
    app: &Arc<App>,
    headers: &HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    read: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(&App, &Bytes, Option<String>) -> Parsed + Send + 'static,
{
    authorize(app, headers, Access::Push)?;
    if app.routing().is_some() {
        return Err(ApiError::PushInGroupMode);
    }
    app.require_ready()?;
    let body = body_of(body, app.limits.body_limit)?;
    let key = idempotency_key(headers)?;
    let worker = Arc::clone(app);
    // Decoding and checking a large push is CPU work: off the async threads.
    let (checked, destination) = tokio::task::spawn_blocking(move || read(&worker, &body, key))
        .await
        .map_err(|e| ApiError::Storage(format!("the push task failed: {e}")))??;
    let outcome = app.writer.push(checked).await.map_err(push_refusal)?;
    let mut answer = json!({
        "accepted": outcome.accepted,
        "late": outcome.late,
        "duplicate": outcome.duplicate,
    });
    if destination == Destination::OnlineNotOffline {
        answer["offline"] = json!(false);
    }
    Ok(axum::Json(answer).into_response())
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let text = v
        .to_str()
        .ok()
        .filter(|t| !t.is_empty() && t.len() <= MAX_KEY)
        .ok_or_else(|| ApiError::BadField {
            field: "Idempotency-Key".into(),
            message: format!("expected 1 to {MAX_KEY} visible ASCII characters"),
        })?;
    Ok(Some(text.to_string()))
}

/// Checks a push's body into a push the writer can log and apply.
pub fn parse(app: &App, body: &[u8], key: Option<String>) -> Parsed {
    let map = super::json_object(body, &FIELDS)?;
    let destination = destination(map.get("to"))?;
    ignored_flags(&map, &["allow_registry_cache", "transform_on_write"])?;
    let source_name = match map.get("push_source_name") {
        Some(Json::String(s)) => s,
        Some(other) => {
            return Err(bad(
                "push_source_name",
                format!("expected a source name, found {}", kind_of(other)),
            ))
        }
        None => return Err(ApiError::MissingField("push_source_name".into())),
    };
    let source = app
        .state
        .names()
        .source(source_name)
        .map_err(|suggestion| ApiError::UnknownSource {
            name: source_name.clone(),
            suggestion,
        })?;
    let df = match map.get("df") {
        Some(Json::Object(df)) => df,
        Some(other) => {
            return Err(bad(
                "df",
                format!("expected an object of columns, found {}", kind_of(other)),
            ))
        }
        None => return Err(ApiError::MissingField("df".into())),
    };
    Ok((checked(app, source, df, key)?, destination))
}

/// `df`'s rows as a push of `source`'s events: converted to its declared types and
/// checked by the runtime (every expression on every row).
pub fn checked(
    app: &App,
    source: &SourceEntry,
    df: &serde_json::Map<String, Json>,
    key: Option<String>,
) -> Result<CheckedPush, ApiError> {
    let batch = to_batch(source, df)?;
    let checked = app.check.check(&source.name, batch).map_err(push_refusal)?;
    Ok(checked.with_key(key))
}

/// Feast's `to`: `online` (the default), `online_and_offline` (the online part), or
/// a refusal.
fn destination(to: Option<&Json>) -> Result<Destination, ApiError> {
    match to {
        None | Some(Json::Null) => Ok(Destination::Online),
        Some(Json::String(to)) if to == "online" => Ok(Destination::Online),
        Some(Json::String(to)) if to == "online_and_offline" => Ok(Destination::OnlineNotOffline),
        Some(Json::String(to)) if to == "offline" => Err(ApiError::Unsupported {
            field: "to".into(),
            message: "featc has no offline store to write: training sets read the sources' files, so append the rows there; featc serves online state (`\"online\"`)".into(),
        }),
        Some(other) => Err(bad(
            "to",
            format!(
                "expected \"online\", \"online_and_offline\" or \"offline\", found {other}"
            ),
        )),
    }
}

/// Feast's flags featc reads and ignores (it has no registry cache and no
/// write-time transformations): each a boolean or null, as Feast's request models
/// allow.
pub fn ignored_flags(map: &serde_json::Map<String, Json>, flags: &[&str]) -> Result<(), ApiError> {
    for flag in flags {
        match map.get(*flag) {
            None | Some(Json::Null | Json::Bool(_)) => {}
            Some(other) => {
                return Err(bad(
                    flag,
                    format!("expected a boolean, found {}", kind_of(other)),
                ))
            }
        }
    }
    Ok(())
}

/// The `df` columns as a batch of the source's declared types (absent columns are
/// left out: the check says which of them the graph needs).
fn to_batch(
    source: &SourceEntry,
    df: &serde_json::Map<String, Json>,
) -> Result<RecordBatch, ApiError> {
    let declared = std::iter::once((&source.time_column, DataType::Timestamp, false)).chain(
        source
            .columns
            .iter()
            .map(|(n, t, nullable)| (n, *t, *nullable)),
    );
    if let Some((column, suggestion)) = source.undeclared(df.keys().map(String::as_str)) {
        return Err(ApiError::UnknownColumn {
            source: source.name.clone(),
            column,
            suggestion,
        });
    }
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    let mut rows = super::SameLength::default();
    for (name, ty, nullable) in declared {
        let Some(cells) = df.get(name) else { continue };
        let field = format!("df.{name}");
        let Json::Array(cells) = cells else {
            return Err(bad(
                &field,
                format!("expected a list of values, found {}", kind_of(cells)),
            ));
        };
        rows.check(&field, cells.len())?;
        let array = to_array(cells, ty, source.epoch).map_err(|(row, e)| ApiError::BadValue {
            field,
            row,
            message: e.to_string(),
        })?;
        fields.push(Field::new(
            name,
            arrow_type(ty),
            nullable || array.null_count() > 0,
        ));
        arrays.push(array);
    }
    // A struct or map column: one JSON object per row (or null), each path the
    // graph reads out of it made a flat column by the one JSON reading every path
    // uses (`row::nested_column::json_path`), its leaves typed as pushed cells are.
    for physical in &source.nested {
        let Some(cells) = df.get(physical) else {
            continue;
        };
        let field = format!("df.{physical}");
        let Json::Array(cells) = cells else {
            return Err(bad(
                &field,
                format!("expected a list of values, found {}", kind_of(cells)),
            ));
        };
        rows.check(&field, cells.len())?;
        for entry in source.paths.iter().filter(|p| &p.path.physical == physical) {
            let bad_value = |row: usize, message: String| ApiError::BadValue {
                field: field.clone(),
                row,
                message: format!("`{}`: {message}", entry.name),
            };
            let leaves = cells
                .iter()
                .enumerate()
                .map(|(row, cell)| {
                    json_path(cell, &entry.path.steps).map_err(|e| bad_value(row, e.to_string()))
                })
                .collect::<Result<Vec<Json>, ApiError>>()?;
            let array = to_array(&leaves, entry.ty, source.epoch)
                .map_err(|(row, e)| bad_value(row, e.to_string()))?;
            fields.push(Field::new(
                &entry.name,
                arrow_type(entry.ty),
                entry.nullable || array.null_count() > 0,
            ));
            arrays.push(array);
        }
    }
    if df.get(&source.time_column).is_none() {
        return Err(ApiError::MissingColumn {
            source: source.name.clone(),
            column: source.time_column.clone(),
        });
    }
    let options = RecordBatchOptions::new().with_row_count(rows.rows());
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
        .map_err(|e| bad("df", e.to_string()))
}
