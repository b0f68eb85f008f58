//! Group mode's reads: any instance answers any key. A read is split by the entity
//! each feature belongs to and by the partition each row's key falls in
//! (`kafka::key`); each share is answered by the partition's owner (here, from the
//! task's own state, or by its instance over `POST /featc/partition-read`), and the
//! shares are merged back into one answer in request order, cell for cell as the
//! owner wrote them. A partition with no owner answering (in hand-over, or its owner
//! gone) refuses the whole read with a 503 naming it: never a value from partial
//! state.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{json, Map, Value as Json};

use super::error::ApiError;
use super::read::{answer_json, json_response, parse};
use super::{authorize, finish, Access, App};
use crate::kafka::key::{key_text, partition_of_key};
use crate::wire::time::{format_time, now_us};

/// Where a key's partition is answered (the group, seen from the HTTP API).
pub trait Routing: Send + Sync {
    /// Partitions of every entity's keys.
    fn partitions(&self) -> i32;
    /// The app answering `entity`'s `partition` in this instance, if it owns it.
    fn local(&self, entity: &str, partition: i32) -> Option<Arc<App>>;
    /// The address (`http://host:port`) of the instance owning it, as last listed
    /// (`fresh`: listed again now).
    fn owner(&self, entity: &str, partition: i32, fresh: bool) -> Option<String>;
    /// Counts a share of a read answered by another instance (`ok`: it answered).
    fn routed(&self, ok: bool);
    /// The group's lines of `/metrics` (Prometheus text).
    fn metrics(&self) -> String;
    /// What `/health` says of the group (cheap: no I/O).
    fn health(&self) -> Json;
}

/// Each share's answer: (the share's index, the owner's JSON answer).
type Answers = Vec<(usize, Map<String, Json>)>;

/// One share of a read: the rows of one entity's key in one partition.
struct Share {
    entity: usize,
    partition: i32,
    rows: Vec<usize>,
}

/// Answers a read body by routing its shares (see the module docs).
pub fn answer(
    app: &App,
    routing: &Arc<dyn Routing>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let request = parse(app, body)?;
    let raw: Map<String, Json> = serde_json::from_slice(body).unwrap_or_default();
    let names = app.state.names();
    let at = request.at.unwrap_or_else(now_us);
    let plan_entities = request.resolved.plan.entities();
    // Each answered feature's entity (one that reads request fields only goes with
    // the read's first entity).
    let fallback = plan_entities.first().copied().unwrap_or(0);
    let feature_entity: Vec<usize> = request
        .resolved
        .plan
        .features()
        .iter()
        .map(|&f| {
            names.features[f]
                .entities
                .first()
                .copied()
                .unwrap_or(fallback)
        })
        .collect();
    let partitions = routing.partitions();
    let mut shares: Vec<Share> = Vec::new();
    for (k, &e) in plan_entities.iter().enumerate() {
        if !feature_entity.contains(&e) {
            continue;
        }
        let mut by_partition: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
        for row in 0..request.keys.rows {
            let key = request.keys.keys.get(k).and_then(|r| r.get(row));
            let text = key.and_then(|values| key_text(values));
            let p = partition_of_key(text.as_deref(), partitions);
            by_partition.entry(p).or_default().push(row);
        }
        shares.extend(by_partition.into_iter().map(|(partition, rows)| Share {
            entity: e,
            partition,
            rows,
        }));
    }
    // Each share's answer: (its share, the owner's JSON answer).
    let mut answers: Answers = Vec::with_capacity(shares.len());
    for (i, share) in shares.iter().enumerate() {
        let entity = &names.entities[share.entity];
        let features: Vec<&str> = request
            .resolved
            .plan
            .features()
            .iter()
            .zip(&feature_entity)
            .filter(|(_, e)| **e == share.entity)
            .map(|(&f, _)| names.features[f].name.as_str())
            .collect();
        let mut entities = Map::new();
        for (key, _) in &entity.keys {
            let column = request
                .entity_columns
                .iter()
                .find(|(n, _)| n == key)
                .map(|(_, values)| share.rows.iter().map(|&r| values[r].clone()).collect())
                .unwrap_or_default();
            entities.insert(key.clone(), Json::Array(column));
        }
        let mut sub = json!({
            "features": features,
            "entities": entities,
            "at": format_time(at),
        });
        if let Some(Json::Object(context)) = raw.get("request_context") {
            let mut columns = Map::new();
            for (field, values) in context {
                if let Json::Array(values) = values {
                    let picked: Vec<Json> = share
                        .rows
                        .iter()
                        .map(|&r| values.get(r).cloned().unwrap_or(Json::Null))
                        .collect();
                    columns.insert(field.clone(), Json::Array(picked));
                }
            }
            sub["request_context"] = Json::Object(columns);
        }
        let bytes = serde_json::to_vec(&sub).unwrap_or_default();
        let answer = share_answer(routing, &entity.name, share.partition, headers, &bytes)?;
        let parsed: Map<String, Json> = serde_json::from_slice(&answer).map_err(|e| {
            ApiError::Storage(format!(
                "the owner of a partition answered with bad JSON: {e}"
            ))
        })?;
        answers.push((i, parsed));
    }
    let key_counts: Vec<usize> = answers
        .iter()
        .map(|(s, _)| names.entities[shares[*s].entity].keys.len())
        .collect();
    Ok(json_response(merge(
        &request,
        &shares,
        &feature_entity,
        (&answers, &key_counts),
        at,
    )))
}

/// The answer of one share: from this instance's task, or routed to its owner.
fn share_answer(
    routing: &Arc<dyn Routing>,
    entity: &str,
    partition: i32,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    if let Some(app) = routing.local(entity, partition) {
        return answer_json(&app, body);
    }
    let unavailable = |reason: String| ApiError::PartitionUnavailable {
        entity: entity.to_string(),
        partition,
        reason,
    };
    // Listed again once if the last listing's owner does not answer for it.
    let mut last = String::from("no instance owns it");
    for fresh in [false, true] {
        let Some(owner) = routing.owner(entity, partition, fresh) else {
            continue;
        };
        match post(&owner, entity, partition, headers, body) {
            Ok((200, answer)) => {
                routing.routed(true);
                return Ok(answer);
            }
            Ok((status, answer)) if status != 503 => {
                routing.routed(true);
                let text = String::from_utf8_lossy(&answer).into_owned();
                return Err(ApiError::Storage(format!(
                    "the owner of partition {partition} of `{entity}` ({owner}) answered {status}: {text}"
                )));
            }
            Ok((_, _)) => last = format!("its owner {owner} is handing it over"),
            Err(e) => last = format!("its owner {owner} cannot be reached: {e}"),
        }
        routing.routed(false);
    }
    Err(unavailable(last))
}

/// `POST {owner}/featc/partition-read`, blocking (reads run on the blocking pool).
fn post(
    owner: &str,
    entity: &str,
    partition: i32,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let uri = format!(
        "{}/featc/partition-read?entity={}&partition={partition}",
        owner.trim_end_matches('/'),
        form_urlencoded::byte_serialize(entity.as_bytes()).collect::<String>()
    );
    let mut request =
        axum::http::Request::post(uri).header(axum::http::header::CONTENT_TYPE, "application/json");
    if let Some(token) = headers.get(axum::http::header::AUTHORIZATION) {
        request = request.header(axum::http::header::AUTHORIZATION, token.clone());
    }
    let request = request
        .body(Full::new(Bytes::copy_from_slice(body)))
        .map_err(|e| e.to_string())?;
    let handle = tokio::runtime::Handle::try_current().map_err(|e| e.to_string())?;
    handle.block_on(async move {
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let call = async {
            let answer = client.request(request).await.map_err(|e| e.to_string())?;
            let status = answer.status().as_u16();
            let bytes = answer
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok::<_, String>((status, bytes.to_vec()))
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), call)
            .await
            .map_err(|_| "no answer within 10 s".to_string())?
    })
}

/// The merged answer: the entity columns as sent, then each feature's column with
/// each row's cells taken from its share's answer.
fn merge(
    request: &super::read::ReadRequest,
    shares: &[Share],
    feature_entity: &[usize],
    (answers, key_counts): (&Answers, &[usize]),
    at: i64,
) -> Vec<u8> {
    let rows = request.keys.rows;
    // For each entity, where each row is: (answer index, position in its share).
    let mut place: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    for (a, (s, _)) in answers.iter().enumerate() {
        let share = &shares[*s];
        let slots = place
            .entry(share.entity)
            .or_insert_with(|| vec![(0, 0); rows]);
        for (k, &row) in share.rows.iter().enumerate() {
            slots[row] = (a, k);
        }
    }
    let results_of = |a: usize| -> &[Json] {
        answers[a]
            .1
            .get("results")
            .and_then(Json::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    let mut results: Vec<Json> = Vec::new();
    let mut errors: Vec<Json> = Vec::new();
    for (_, values) in &request.entity_columns {
        results.push(json!({
            "event_timestamps": vec![json!("1970-01-01T00:00:00Z"); values.len()],
            "statuses": vec![json!("PRESENT"); values.len()],
            "values": values,
        }));
    }
    for (i, &entity) in feature_entity.iter().enumerate() {
        // Its position among its entity's features, after that entity's key columns.
        let j = feature_entity[..i].iter().filter(|e| **e == entity).count();
        let mut columns: [Vec<Json>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for row in 0..rows {
            let (a, k) = place.get(&entity).map_or((usize::MAX, 0), |p| p[row]);
            let keys = key_counts.get(a).copied().unwrap_or(0);
            let column = if a == usize::MAX {
                None
            } else {
                results_of(a).get(keys + j)
            };
            for (c, field) in ["event_timestamps", "statuses", "values"]
                .iter()
                .enumerate()
            {
                let cell = column
                    .and_then(|col| col.get(field))
                    .and_then(|v| v.get(k))
                    .cloned()
                    .unwrap_or(Json::Null);
                columns[c].push(cell);
            }
        }
        let [event_timestamps, statuses, values] = columns;
        results.push(json!({
            "event_timestamps": event_timestamps,
            "statuses": statuses,
            "values": values,
        }));
    }
    for (s, answer) in answers {
        let Some(list) = answer
            .get("metadata")
            .and_then(|m| m.get("errors"))
            .and_then(Json::as_array)
        else {
            continue;
        };
        for e in list {
            let mut e = e.clone();
            if let Some(k) = e.get("row").and_then(Json::as_u64) {
                if let Some(row) = shares[*s].rows.get(k as usize) {
                    e["row"] = json!(row);
                }
            }
            errors.push(e);
        }
    }
    let names: Vec<&str> = request
        .entity_columns
        .iter()
        .map(|(n, _)| n.as_str())
        .chain(request.resolved.names.iter().map(String::as_str))
        .collect();
    let mut metadata = json!({"at": format_time(at)});
    if !errors.is_empty() {
        metadata["errors"] = Json::Array(errors);
    }
    metadata["feature_names"] = json!(names);
    serde_json::to_vec(&json!({"metadata": metadata, "results": results})).unwrap_or_default()
}

/// The entity and partition of `POST /featc/partition-read`'s query.
fn partition_query(uri: &Uri) -> Result<(String, i32), ApiError> {
    let (mut entity, mut partition) = (None, None);
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "entity" => entity = Some(v.into_owned()),
            "partition" => partition = v.parse::<i32>().ok(),
            _ => {}
        }
    }
    match (entity, partition) {
        (Some(e), Some(p)) => Ok((e, p)),
        _ => Err(super::bad("partition", "expected ?entity=NAME&partition=N")),
    }
}

/// `POST /featc/partition-read?entity=E&partition=P`: a share of a read routed here by
/// another instance, answered from the task if this instance owns it (else a 503).
pub async fn partition_read(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let started = std::time::Instant::now();
    let answer = (|| {
        authorize(&app, &headers, Access::Read)?;
        let (entity, partition) = partition_query(&uri)?;
        let body = super::body_of(body, app.limits.body_limit)?;
        let Some(routing) = app.routing() else {
            return Err(ApiError::NotFound("/featc/partition-read".into()));
        };
        let Some(task) = routing.local(&entity, partition) else {
            return Err(ApiError::PartitionUnavailable {
                entity,
                partition,
                reason: "this instance does not own it".into(),
            });
        };
        Ok(json_response(answer_json(&task, &body)?))
    })();
    finish(&app.counters.reads, started, answer)
}
