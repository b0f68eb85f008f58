//! Operations routes: `GET /health` (200 when ready, 503 while loading history or
//! stopping), `GET /metrics` (Prometheus text), `GET /kafka/dead-letters` (the latest
//! dead-lettered Kafka records), and the JSON 404 of other paths.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::ApiError;
use crate::online::{Online, Phase};
use crate::time::now_us;

pub async fn health(State(online): State<Arc<Online>>) -> Response {
    let (status, code) = match online.phase() {
        Phase::Ready => ("ready", StatusCode::OK),
        Phase::Bootstrapping => ("bootstrapping", StatusCode::SERVICE_UNAVAILABLE),
        Phase::ShuttingDown => ("shutting_down", StatusCode::SERVICE_UNAVAILABLE),
    };
    let body = json!({
        "status": status,
        "bootstrap": {
            "events_done": online.boot_done.load(Ordering::Relaxed),
            "events_total": online.boot_total.load(Ordering::Relaxed),
        },
    });
    (code, axum::Json(body)).into_response()
}

pub async fn metrics(State(online): State<Arc<Online>>) -> Response {
    let view = online.runtime_view();
    let mut text = crate::metrics::render(&online.stats, &view, now_us());
    text.push_str(&crate::metrics::render_served(
        &online.served,
        &online.catalog,
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The latest Kafka records kept out of the state (newest last), with the count of
/// all of them; guarded like reads.
pub async fn kafka_dead_letters(
    State(online): State<Arc<Online>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Err(e) = super::authorize(&online, &headers, super::Access::Read) {
        return e.into_response();
    }
    let records: Vec<_> = online
        .kafka_dead
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .cloned()
        .collect();
    let body = json!({
        "total": online.stats.kafka_dead.load(Ordering::Relaxed),
        "records": records,
    });
    axum::Json(body).into_response()
}

pub async fn not_found(uri: Uri) -> Response {
    ApiError::NotFound(uri.path().to_string()).into_response()
}
