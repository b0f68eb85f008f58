//! `POST /write-to-online-store`: how Feast's `store.push(...)` reaches featc. Feast's
//! remote online store sends, once per Feast FeatureView fed by the push source,
//! `{"feature_view_name": ..., "df": {...}, "allow_registry_cache": false}` with the
//! view's entity keys and fields as columns plus `event_timestamp` and `created`.
//! featc computes its values from events, so precomputed values cannot be written:
//! the route takes only a `feature_view_name` that names a featc **source** (the Feast
//! repo declares, per source, a FeatureView of that name with the source's columns),
//! and pushes the rows as that source's events, exactly as `POST /push` does (same
//! checks, token, idempotency, durability, answer). Feast's `event_timestamp` is the
//! event time when the source's time column is absent; it and `created` are otherwise
//! Feast's bookkeeping and ignored. A featc view's name is refused: Feast would write
//! the same events once per view, and featc would count them once per view.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value as Json};

use super::error::ApiError;
use super::push::{accept, checked, ignored_flags, Destination, Parsed};
use super::{bad, App};
use crate::names::SourceEntry;
use crate::wire::time::kind_of;

/// The fields of Feast's `WriteToFeatureStoreRequest`.
const FIELDS: [&str; 4] = [
    "feature_view_name",
    "df",
    "allow_registry_cache",
    "transform_on_write",
];

/// Feast's event time column, and its write time column (featc has no use for it).
const EVENT_TIMESTAMP: &str = "event_timestamp";
const CREATED: &str = "created";

pub async fn handle(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    accept(app, headers, body, |app, body, key| parse(app, body, key)).await
}

/// Checks a write's body into a push of the named source's events.
pub fn parse(app: &App, body: &[u8], key: Option<String>) -> Parsed {
    let mut map = super::json_object(body, &FIELDS)?;
    ignored_flags(&map, &["allow_registry_cache", "transform_on_write"])?;
    let name = match map.get("feature_view_name") {
        Some(Json::String(name)) => name.clone(),
        Some(other) => {
            return Err(bad(
                "feature_view_name",
                format!("expected a name, found {}", kind_of(other)),
            ))
        }
        None => return Err(ApiError::MissingField("feature_view_name".into())),
    };
    let names = app.state.names();
    let source = names.source(&name).map_err(|suggestion| {
        let is_view = names.features.iter().any(|f| f.view == name);
        ApiError::NotASource {
            name: name.clone(),
            is_view,
            sources: names.sources.iter().map(|s| s.name.clone()).collect(),
            suggestion: suggestion.filter(|_| !is_view),
        }
    })?;
    let df = match map.remove("df") {
        Some(Json::Object(df)) => df,
        Some(other) => {
            return Err(bad(
                "df",
                format!("expected an object of columns, found {}", kind_of(&other)),
            ))
        }
        None => return Err(ApiError::MissingField("df".into())),
    };
    let events = source_columns(source, df);
    Ok((checked(app, source, &events, key)?, Destination::Online))
}

/// Feast's columns as the source's: `event_timestamp` becomes the time column when
/// that is absent; Feast's bookkeeping columns the source does not declare are left
/// out; every other column is kept, for the push's checks to judge.
fn source_columns(source: &SourceEntry, df: Map<String, Json>) -> Map<String, Json> {
    let declared = |c: &str| source.column_names().any(|n| n == c);
    let has_time = df.contains_key(&source.time_column);
    let mut events = Map::new();
    for (column, values) in df {
        let name = match column.as_str() {
            EVENT_TIMESTAMP if !declared(EVENT_TIMESTAMP) => {
                if has_time {
                    continue;
                }
                source.time_column.clone()
            }
            CREATED if !declared(CREATED) => continue,
            _ => column,
        };
        events.insert(name, values);
    }
    events
}
