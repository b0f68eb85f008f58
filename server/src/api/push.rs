//! `POST /push`: Feast's push (`{"push_source_name": "...", "df": {"col": [...]},
//! "to": "online"}`) into a featc source. The rows are checked against the source's
//! declared columns and the graph's expressions, logged durably, applied, and only
//! then answered: `{"accepted": n, "late": k}`. A push is taken whole or refused
//! whole. An `Idempotency-Key` header makes a retried push answer its first answer
//! instead of being applied twice.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use featc_runtime::ir::DataType;
use featc_runtime::row::types::arrow_type;
use serde_json::{json, Value as Json};

use super::error::ApiError;
use super::refusal::push_refusal;
use super::{authorize, bad, body_of, finish, Access, App};
use crate::names::SourceEntry;
use crate::state::CheckedPush;
use crate::wire::json::to_array;
use crate::wire::time::kind_of;

const FIELDS: [&str; 4] = ["push_source_name", "df", "to", "allow_registry_cache"];

/// The longest idempotency key accepted.
const MAX_KEY: usize = 256;

pub async fn handle(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let started = std::time::Instant::now();
    let answer = answer(&app, &headers, &uri, body).await;
    if matches!(&answer, Err(e) if e.status().is_client_error() && !matches!(e, ApiError::Unauthorized))
    {
        app.counters
            .pushes_refused
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    finish(&app.counters.pushes, started, answer)
}

async fn answer(
    app: &Arc<App>,
    headers: &HeaderMap,
    uri: &Uri,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(app, headers, Access::Push)?;
    app.require_ready()?;
    let body = body_of(body, app.limits.body_limit)?;
    let key = idempotency_key(headers)?;
    // An Arrow push has its parameters in the query string (docs/serving.md).
    let arrow_params = match super::arrow::is_arrow(headers) {
        true => Some(super::push_arrow::params(uri)?),
        false => None,
    };
    let worker = Arc::clone(app);
    // Decoding and checking a large push is CPU work: off the async threads.
    let checked = tokio::task::spawn_blocking(move || match arrow_params {
        Some(params) => super::push_arrow::parse(&worker, &params, &body, key),
        None => parse(&worker, &body, key),
    })
    .await
    .map_err(|e| ApiError::Storage(format!("the push task failed: {e}")))??;
    let outcome = app.writer.push(checked).await.map_err(push_refusal)?;
    Ok(axum::Json(json!({
        "accepted": outcome.accepted,
        "late": outcome.late,
        "duplicate": outcome.duplicate,
    }))
    .into_response())
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
pub fn parse(app: &App, body: &[u8], key: Option<String>) -> Result<CheckedPush, ApiError> {
    let map = super::json_object(body, &FIELDS)?;
    match map.get("to") {
        None | Some(Json::Null) => {}
        Some(Json::String(to)) if to == "online" => {}
        Some(other) => {
            return Err(bad(
                "to",
                format!(
                    "featc serves online state only: expected \"online\", found {other}; training reads the sources' files"
                ),
            ))
        }
    }
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
    let batch = to_batch(source, df)?;
    let checked = app.check.check(&source.name, batch).map_err(push_refusal)?;
    Ok(checked.with_key(key))
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
