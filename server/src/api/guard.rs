//! What every request passes before its route reads its body: the in-flight bound
//! (`--max-in-flight`, 503 `too_many_requests`), the route's token (401, so a
//! refused request's body is never read, let alone buffered), and for a push the
//! writer's queue bound (`--max-queued-pushes`, 429 `push_queue_full`). `/health`
//! and unknown paths pass untouched: they read no body and hold nothing.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, Overload};
use super::{authorize, Access, App};

/// The token a path's route requires, for the routes that are bounded.
fn access(path: &str) -> Option<Access> {
    match path {
        "/push" | "/write-to-online-store" => Some(Access::Push),
        "/get-online-features" | "/metrics" | "/dead-letters" | "/kafka/dead-letters" => {
            Some(Access::Read)
        }
        _ => None,
    }
}

/// The middleware (see the module docs).
pub async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let Some(access) = access(request.uri().path()) else {
        return next.run(request).await;
    };
    let Ok(_handling) = app.in_flight.try_acquire() else {
        app.counters.overloaded.in_flight.fetch_add(1, Relaxed);
        let limit = app.limits.max_in_flight;
        return ApiError::Overloaded(Overload::InFlight { limit }).into_response();
    };
    if let Err(e) = authorize(&app, request.headers(), access) {
        return e.into_response();
    }
    if access == Access::Push {
        let Ok(_queued) = app.queued_pushes.try_acquire() else {
            app.counters.overloaded.push_queue.fetch_add(1, Relaxed);
            let limit = app.limits.max_queued_pushes;
            return ApiError::Overloaded(Overload::PushQueue { limit }).into_response();
        };
        return next.run(request).await;
    }
    next.run(request).await
}
