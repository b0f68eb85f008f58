//! Operations routes: `GET /health` (200 when ready, 503 while loading history or
//! stopping), `GET /metrics` (Prometheus text), the JSON 404 of other paths, and the
//! 503 of a connection past the connection limit.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::{ApiError, Overload};
use super::{App, Phase};
use crate::metrics::Page;
use crate::wire::time::now_us;

pub async fn health(State(app): State<Arc<App>>) -> Response {
    let (status, code) = match app.phase() {
        Phase::Ready => ("ready", StatusCode::OK),
        Phase::Bootstrapping => ("bootstrapping", StatusCode::SERVICE_UNAVAILABLE),
        Phase::ShuttingDown => ("shutting_down", StatusCode::SERVICE_UNAVAILABLE),
    };
    let mut body = json!({
        "status": status,
        "bootstrap": {
            "events_done": app.boot_done.load(Ordering::Relaxed),
            "events_total": app.boot_total.load(Ordering::Relaxed),
        },
    });
    if let Some(routing) = app.routing() {
        body["group"] = routing.health();
    }
    (code, axum::Json(body)).into_response()
}

/// The Prometheus page; guarded like reads (`guard`). Rendering it is O(features)
/// and the runtime's view O(entities) (`ViewCache`: one at a time): both run on
/// a blocking thread, never on the async workers that answer `/health`.
pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    let routing = app.routing().cloned();
    let more = Arc::clone(&app);
    let render = move || {
        let view = app.view.get(|| app.state.runtime_view());
        let dead_letters = app.state.dead_letters(|d| d.totals());
        crate::metrics::render(&Page {
            dead_letters: &dead_letters,
            ready: app.phase() == Phase::Ready,
            view: &view,
            state: app.state.counters(),
            future: app.check.future_counts(),
            requests: &app.counters,
            kafka: &app.kafka.counters,
            redis: &app.redis,
            served: app.state.served(),
            names: app.state.names(),
            now_us: now_us(),
        })
    };
    let render = move || {
        let mut text = render();
        if let Some(r) = routing {
            text.push_str(&r.metrics());
        }
        text.push_str(&more.more_metrics());
        text
    };
    match tokio::task::spawn_blocking(render).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => ApiError::Storage(format!("the metrics task failed: {e}")).into_response(),
    }
}

/// A connection past `--max-connections`, on any route but `/health`.
pub async fn too_many_connections(State(app): State<Arc<App>>) -> Response {
    let limit = app.limits.max_connections;
    ApiError::Overloaded(Overload::Connections { limit }).into_response()
}

pub async fn not_found(uri: Uri) -> Response {
    ApiError::NotFound(uri.path().to_string()).into_response()
}
