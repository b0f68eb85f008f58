//! `POST /get-online-features`: Feast's read. The request names features
//! (`"features": ["view:feature", ...]`, or a project-wide name) or a service
//! (`"feature_service"`), gives entity keys as columns (`"entities": {"user_id": [...]}`),
//! optionally `"full_feature_names"`, `"request_context"` (the request fields derived
//! features read, as columns like the keys) and featc's `"at"` (the read time). Every
//! field Feast 0.67's client sends is taken as Feast's server takes it (an empty
//! `features` beside a service, a null service beside features,
//! `include_feature_view_version_metadata`). The answer lists the entity columns in the
//! order sent, then the features, each with its values, statuses and event timestamps,
//! one per entity.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use featc_runtime::stream::{FeatureValue, FeatureVector, Status};
use serde_json::{json, Map, Value as Json};

use super::error::ApiError;
use super::read_plans::{Named, Resolved};
use super::refusal::read_refusal;
use super::{authorize, bad, finish, unread, within_limit, Access, App};
use crate::names::Names;
use crate::served::status_name;
use crate::state::{KeyRows, ReadPlan};
use crate::wire::json::{to_value, write_value};
use crate::wire::object::{parse_ordered, Ordered};
use crate::wire::time::{format_time, kind_of, parse_time};

/// The read's path.
pub const PATH: &str = "/get-online-features";

/// The fields a read may have: Feast's (`GetOnlineFeaturesRequest`) and featc's
/// `request_context` and `at`.
const FIELDS: [&str; 7] = [
    "features",
    "feature_service",
    "entities",
    "full_feature_names",
    "include_feature_view_version_metadata",
    "request_context",
    "at",
];

/// A read's entity columns as sent (name, values), answered back unchanged.
type EntityColumns = Vec<(String, Vec<Json>)>;

/// What a read asks for, resolved against the names.
pub struct ReadRequest {
    /// The features read, their plan and the names the answer gives them.
    pub resolved: Arc<Resolved>,
    /// The request's entity columns (name, values), in the order they are answered.
    pub entity_columns: EntityColumns,
    pub keys: KeyRows,
    pub at: Option<i64>,
}

pub async fn handle(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = body.map_err(|e| unread(&e, app.limits.body_limit));
    respond(app, headers, uri, body).await
}

/// The answer to a read whose body was read (or failed to be: the refusal is
/// answered where the read first needs its body, after its token and readiness).
pub async fn respond(
    app: Arc<App>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, ApiError>,
) -> Response {
    let started = std::time::Instant::now();
    // A read of a few entities costs microseconds: handing it to another thread would
    // cost more than it saves. A larger body can ask for up to `--max-entities` keys
    // (milliseconds of work), which must not hold an async worker the other
    // connections (and `/health`) need, so it runs on the blocking pool.
    // A group's read may wait for another instance: never on an async worker.
    let large = body.as_ref().is_ok_and(|b| b.len() > INLINE_READ_BYTES) || app.routing().is_some();
    let answer = match large {
        false => answer_any(&app, &headers, &uri, body),
        true => {
            let worker = Arc::clone(&app);
            tokio::task::spawn_blocking(move || answer_any(&worker, &headers, &uri, body))
                .await
                .unwrap_or_else(|e| Err(ApiError::Storage(format!("the read task failed: {e}"))))
        }
    };
    finish(&app.counters.reads, started, answer)
}

/// The largest read body answered on the async worker that received it (a few
/// entities); larger ones are answered on the blocking pool.
const INLINE_READ_BYTES: usize = 4 << 10;

fn answer_any(
    app: &App,
    headers: &HeaderMap,
    uri: &Uri,
    body: Result<Bytes, ApiError>,
) -> Result<Response, ApiError> {
    match super::arrow::is_arrow(headers) {
        true if app.routing().is_some() => Err(ApiError::Unsupported {
            field: "content-type".into(),
            message: "Arrow reads are not routed between a group's instances yet; send JSON".into(),
        }),
        true => super::read_arrow::answer(app, headers, uri, body),
        false => answer(app, headers, body),
    }
}

fn answer(
    app: &App,
    headers: &HeaderMap,
    body: Result<Bytes, ApiError>,
) -> Result<Response, ApiError> {
    authorize(app, headers, Access::Read)?;
    app.require_ready()?;
    let body = within_limit(body, app.limits.body_limit)?;
    if let Some(routing) = app.routing() {
        return super::route::answer(app, routing, headers, &body);
    }
    Ok(json_response(answer_json(app, &body)?))
}

/// The answer to a read's JSON body from `app`'s own state, as JSON bytes.
pub fn answer_json(app: &App, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let request = parse(app, body)?;
    let mut vectors = Vec::with_capacity(request.keys.rows);
    let at = app
        .state
        .read_rows(
            &request.resolved.plan,
            &request.keys,
            request.at,
            &mut vectors,
        )
        .map_err(read_refusal)?;
    app.counters.entities_read.fetch_add(
        request.keys.rows as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    Ok(render(&request, at, &vectors))
}

/// JSON bytes as an answer.
pub fn json_response(out: Vec<u8>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        out,
    )
        .into_response()
}

/// Checks and resolves a read's body. The body of a well-formed read is read in one
/// typed pass that borrows its names (`Body`); anything else (an unknown or repeated
/// field, a value of another type, a name with escapes) is read again by the general
/// path, which names what is wrong. Both resolve the names through `resolve`.
pub fn parse(app: &App, body: &[u8]) -> Result<ReadRequest, ApiError> {
    match serde_json::from_slice::<Body<'_>>(body) {
        Ok(b) => {
            let named = named(b.features.as_deref(), b.feature_service)?;
            let resolved = resolve(app, named, b.full_feature_names.unwrap_or(false))?;
            request_of(
                app,
                &resolved,
                b.at.as_ref(),
                b.entities,
                b.request_context.as_ref(),
            )
        }
        Err(_) => parse_general(app, body),
    }
}

/// A well-formed read's body (see `parse`). A null field is absent, as in the general
/// path, except `entities` and `request_context`, whose null is refused there.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Body<'a> {
    #[serde(borrow, default)]
    features: Option<Vec<&'a str>>,
    #[serde(borrow, default)]
    feature_service: Option<&'a str>,
    #[serde(default)]
    full_feature_names: Option<bool>,
    #[serde(default)]
    #[allow(dead_code)] // checked to be a boolean (or null), then never answered
    include_feature_view_version_metadata: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    request_context: Option<Json>,
    #[serde(default)]
    at: Option<Json>,
    #[serde(default, deserialize_with = "present")]
    entities: Option<Ordered>,
}

/// A field that was sent, null included.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// The general path of `parse`: any JSON, each field checked for what it must be.
fn parse_general(app: &App, body: &[u8]) -> Result<ReadRequest, ApiError> {
    let (map, entities) = fields_of(body)?;
    let features: Option<Vec<&str>> = requested_features(&map)?
        .map(|list| {
            list.iter()
                .enumerate()
                .map(|(i, f)| {
                    f.as_str().ok_or_else(|| {
                        bad(
                            &format!("features[{i}]"),
                            format!("expected a feature name, found {}", kind_of(f)),
                        )
                    })
                })
                .collect::<Result<_, _>>()
        })
        .transpose()?;
    let named = named(features.as_deref(), requested_service(&map)?)?;
    // featc's features have no versions: Feast's version metadata is never answered,
    // which Feast's client reads as none.
    match map.get("include_feature_view_version_metadata") {
        None | Some(Json::Null | Json::Bool(_)) => {}
        Some(other) => {
            return Err(bad(
                "include_feature_view_version_metadata",
                format!("expected a boolean, found {}", kind_of(other)),
            ))
        }
    }
    let full = match map.get("full_feature_names") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(other) => {
            return Err(bad(
                "full_feature_names",
                format!("expected a boolean, found {}", kind_of(other)),
            ))
        }
    };
    let resolved = resolve(app, named, full)?;
    request_of(
        app,
        &resolved,
        map.get("at"),
        entities,
        map.get("request_context"),
    )
}

/// What a read names: a list of features or a service, never both.
fn named<'a>(
    features: Option<&'a [&'a str]>,
    service: Option<&'a str>,
) -> Result<Named<'a>, ApiError> {
    match (features, service) {
        // Feast's client sends `features: []` beside a service; a non-empty list
        // beside one is ambiguous.
        (Some(list), Some(_)) if !list.is_empty() => Err(bad(
            "feature_service",
            "give either `features` or `feature_service`, not both",
        )),
        (_, Some(name)) => Ok(Named::Service(name)),
        (Some([]), None) => Err(bad("features", "the list is empty")),
        (Some(list), None) => Ok(Named::Features(list)),
        (None, None) => Err(ApiError::MissingField("features".into())),
    }
}

/// The features `named` reads, the names they answer under and the read's plan, once
/// per list (`read_plans`).
fn resolve(app: &App, named: Named<'_>, full: bool) -> Result<Arc<Resolved>, ApiError> {
    app.read_plans.get_or_resolve(named, full, || {
        let known = app.state.names();
        let features = indices_of(known, named)?;
        let names = feature_names(app, &features, full)?;
        // Every feature was resolved above, so planning the read cannot fail.
        let plan = ReadPlan::new(known, features).map_err(read_refusal)?;
        Ok(Resolved::new(plan, names))
    })
}

/// The indices of the features `named` names, an unknown name refused with the
/// closest known one (JSON and Arrow reads alike).
pub(super) fn indices_of(known: &Names, named: Named<'_>) -> Result<Vec<usize>, ApiError> {
    match named {
        Named::Service(name) => known
            .service(name)
            .map(<[usize]>::to_vec)
            .map_err(|suggestion| ApiError::UnknownService {
                name: name.to_string(),
                suggestion,
            }),
        Named::Features(list) => list
            .iter()
            .enumerate()
            .map(|(i, &name)| {
                known
                    .feature(name)
                    .map_err(|suggestion| ApiError::UnknownFeature {
                        field: format!("features[{i}]"),
                        name: name.to_string(),
                        suggestion,
                    })
            })
            .collect(),
    }
}

/// The read of `resolved` at `at` for the rows of `entities` and `context`.
fn request_of(
    app: &App,
    resolved: &Arc<Resolved>,
    at: Option<&Json>,
    entities: Option<Ordered>,
    context: Option<&Json>,
) -> Result<ReadRequest, ApiError> {
    let at = match at {
        None | Some(Json::Null) => None,
        Some(t) => Some(parse_time(t).map_err(|e| bad("at", e.to_string()))?),
    };
    let (entity_columns, mut keys) = entity_keys(app, &resolved.plan, entities)?;
    keys.request = request_context(app, &resolved.plan, context, keys.rows)?;
    Ok(ReadRequest {
        resolved: Arc::clone(resolved),
        entity_columns,
        keys,
        at,
    })
}

/// The body's fields (an unknown one refused with the closest known name), with the
/// `entities` object apart, its columns in the order sent.
fn fields_of(body: &[u8]) -> Result<(Map<String, Json>, Option<Ordered>), ApiError> {
    let json = parse_ordered(body).map_err(|e| ApiError::BadJson(e.to_string()))?;
    let Ordered::Object(members) = json else {
        return Err(bad(
            "",
            format!("expected a JSON object, found {}", json.kind()),
        ));
    };
    let mut map = Map::new();
    let mut entities = None;
    for (name, value) in members {
        if !FIELDS.contains(&name.as_str()) {
            return Err(ApiError::UnknownField {
                suggestion: crate::names::closest(&name, FIELDS.iter().copied()),
                field: name,
            });
        }
        match name.as_str() {
            "entities" => entities = Some(value),
            _ => {
                map.insert(name, value.into_json());
            }
        }
    }
    Ok((map, entities))
}

/// `features` as sent (`None` when absent or null, as Feast's default).
fn requested_features(map: &Map<String, Json>) -> Result<Option<&[Json]>, ApiError> {
    match map.get("features") {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Array(list)) => Ok(Some(list)),
        Some(other) => Err(bad(
            "features",
            format!("expected a list of names, found {}", kind_of(other)),
        )),
    }
}

/// `feature_service` as sent (`None` when absent or null, as Feast's default).
fn requested_service(map: &Map<String, Json>) -> Result<Option<&str>, ApiError> {
    match map.get("feature_service") {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(name)) => Ok(Some(name)),
        Some(other) => Err(bad(
            "feature_service",
            format!("expected a name, found {}", kind_of(other)),
        )),
    }
}

/// Feast's names: the feature's name in its view, or `view__feature` with
/// `full_feature_names`; two features may not answer under one name.
fn feature_names(app: &App, features: &[usize], full: bool) -> Result<Vec<String>, ApiError> {
    let mut names: Vec<String> = Vec::with_capacity(features.len());
    for &f in features {
        let e = &app.state.names().features[f];
        let name = if full {
            format!("{}__{}", e.view, e.short)
        } else {
            e.short.clone()
        };
        if names.contains(&name) {
            return Err(bad(
                if full {
                    "features"
                } else {
                    "full_feature_names"
                },
                format!(
                    "two requested features answer as `{name}`{}",
                    if full {
                        ""
                    } else {
                        ": set \"full_feature_names\": true"
                    }
                ),
            ));
        }
        names.push(name);
    }
    Ok(names)
}

fn entity_keys(
    app: &App,
    plan: &ReadPlan,
    entities: Option<Ordered>,
) -> Result<(EntityColumns, KeyRows), ApiError> {
    let columns = match entities {
        Some(Ordered::Object(columns)) => columns,
        Some(other) => {
            return Err(bad(
                "entities",
                format!("expected an object of key columns, found {}", other.kind()),
            ))
        }
        None => return Err(ApiError::MissingField("entities".into())),
    };
    let mut rows = super::SameLength::default();
    let mut entity_columns: EntityColumns = Vec::with_capacity(columns.len());
    for (name, values) in columns {
        let field = format!("entities.{name}");
        let values = match values.into_json() {
            Json::Array(values) => values,
            other => {
                return Err(bad(
                    &field,
                    format!("expected a list of keys, found {}", kind_of(&other)),
                ))
            }
        };
        rows.check(&field, values.len())?;
        entity_columns.push((name, values));
    }
    let rows = rows.rows().unwrap_or(0);
    if rows > app.limits.max_entities {
        return Err(ApiError::TooManyEntities {
            found: rows,
            limit: app.limits.max_entities,
        });
    }
    let known = app.state.names();
    let mut keys: Vec<Vec<Vec<featc_runtime::value::Value>>> =
        Vec::with_capacity(plan.entities().len());
    for &e in plan.entities() {
        let entity = &known.entities[e];
        let mut per_row = vec![Vec::with_capacity(entity.keys.len()); rows];
        for (key, ty) in &entity.keys {
            let values = entity_columns
                .iter()
                .find_map(|(name, values)| (name == key).then_some(values))
                .ok_or_else(|| ApiError::MissingKeyColumn {
                    column: key.clone(),
                    entity: entity.name.clone(),
                })?;
            for (row, v) in values.iter().enumerate() {
                let value = to_value(v, *ty).map_err(|e| ApiError::BadValue {
                    field: format!("entities.{key}"),
                    row,
                    message: e.to_string(),
                })?;
                per_row[row].push(value);
            }
        }
        keys.push(per_row);
    }
    let request = Vec::new();
    Ok((
        entity_columns,
        KeyRows {
            rows,
            keys,
            request,
        },
    ))
}

/// The request fields the features need, from `request_context` (columns of one
/// value per entity row, like `entities`), in the plan's order; a missing field is
/// refused by name.
fn request_context(
    app: &App,
    plan: &ReadPlan,
    context: Option<&Json>,
    rows: usize,
) -> Result<Vec<Vec<featc_runtime::value::Value>>, ApiError> {
    let names = app.state.names();
    let needed = plan
        .features()
        .iter()
        .flat_map(|&f| &names.features[f].request);
    let mut done: Vec<&str> = Vec::new();
    let mut out: Vec<Vec<featc_runtime::value::Value>> = Vec::new();
    for field in needed {
        if done.contains(&field.field.as_str()) {
            continue;
        }
        let name = format!("request_context.{}", field.field);
        let column = match context {
            Some(Json::Object(m)) => m.get(&field.field),
            Some(other) => {
                return Err(bad(
                    "request_context",
                    format!("expected an object of columns, found {}", kind_of(other)),
                ))
            }
            None => None,
        };
        let values = match column {
            Some(Json::Array(values)) if values.len() == rows => values,
            Some(Json::Array(values)) => {
                return Err(bad(
                    &name,
                    format!("{} values for {rows} entity rows", values.len()),
                ))
            }
            Some(other) => {
                return Err(bad(
                    &name,
                    format!("expected a list of values, found {}", kind_of(other)),
                ))
            }
            None => return Err(ApiError::MissingField(name)),
        };
        let mut column = Vec::with_capacity(rows);
        for (row, v) in values.iter().enumerate() {
            let value = to_value(v, field.ty).map_err(|e| ApiError::BadValue {
                field: name.clone(),
                row,
                message: e.to_string(),
            })?;
            if value.is_null() && !field.nullable {
                return Err(ApiError::BadValue {
                    field: name.clone(),
                    row,
                    message: format!(
                        "null, but request `{}` declares `{}` non-nullable",
                        field.request, field.field
                    ),
                });
            }
            column.push(value);
        }
        done.push(&field.field);
        out.push(column);
    }
    Ok(out)
}

/// Feast's timestamp for "no event" (and for entity columns).
const NO_EVENT: &str = "1970-01-01T00:00:00Z";

/// The answer, written straight into its bytes (reads are hot: no `Value` tree). Keys
/// are in the order a JSON object of the answer would sort them.
fn render(request: &ReadRequest, at: i64, vectors: &[FeatureVector]) -> Vec<u8> {
    let rows = vectors.len();
    let mut out: Vec<u8> =
        Vec::with_capacity(256 + (request.resolved.names.len() + 1) * (rows * 48 + 64));
    let mut errors: Vec<Json> = Vec::new();
    for (i, name) in request.resolved.names.iter().enumerate() {
        for (row, v) in vectors.iter().enumerate() {
            if let Some(FeatureValue {
                status: Status::Error(e),
                ..
            }) = v.features.get(i)
            {
                errors.push(json!({"feature": name, "row": row, "message": e.to_string()}));
            }
        }
    }
    out.extend_from_slice(b"{\"metadata\":{\"at\":");
    write_json(&mut out, &format_time(at));
    if !errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        write_json(&mut out, &errors);
    }
    out.extend_from_slice(b",\"feature_names\":[");
    for (k, (name, _)) in request.entity_columns.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        write_json(&mut out, name);
    }
    if !request.resolved.names_json.is_empty() {
        if !request.entity_columns.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(&request.resolved.names_json);
    }
    out.extend_from_slice(b"]},\"results\":[");
    let mut first = true;
    let mut separate = |out: &mut Vec<u8>| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
    };
    for (_, values) in &request.entity_columns {
        separate(&mut out);
        out.extend_from_slice(b"{\"event_timestamps\":[");
        repeat(&mut out, NO_EVENT, values.len());
        out.extend_from_slice(b"],\"statuses\":[");
        repeat(&mut out, "PRESENT", values.len());
        out.extend_from_slice(b"],\"values\":");
        write_json(&mut out, values);
        out.push(b'}');
    }
    // Features of one entity share their event time: format it (as a JSON string)
    // once.
    let mut last_time: Option<(i64, Vec<u8>)> = None;
    for i in 0..request.resolved.names.len() {
        separate(&mut out);
        let cells = || vectors.iter().filter_map(|v| v.features.get(i));
        out.extend_from_slice(b"{\"event_timestamps\":[");
        for (k, f) in cells().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            match f.event_time {
                Some(t) => {
                    if last_time.as_ref().is_none_or(|(lt, _)| *lt != t) {
                        let mut quoted = Vec::new();
                        write_json(&mut quoted, &format_time(t));
                        last_time = Some((t, quoted));
                    }
                    if let Some((_, quoted)) = &last_time {
                        out.extend_from_slice(quoted);
                    }
                }
                None => write_json(&mut out, NO_EVENT),
            }
        }
        out.extend_from_slice(b"],\"statuses\":[");
        for (k, f) in cells().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(status_name(&f.status).as_bytes());
            out.push(b'"');
        }
        out.extend_from_slice(b"],\"values\":[");
        for (k, f) in cells().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            write_value(&mut out, &f.value);
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}");
    out
}

/// `text` as a JSON string, `n` times, comma-separated.
fn repeat(out: &mut Vec<u8>, text: &str, n: usize) {
    for k in 0..n {
        if k > 0 {
            out.push(b',');
        }
        write_json(out, text);
    }
}

/// Any serializable value as JSON (writing into a vector cannot fail).
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let _ = serde_json::to_writer(&mut *out, value);
}
