//! What every request passes before its route reads its body: the in-flight bound
//! (`--max-in-flight`, 503 `too_many_requests`), the route's token (401, so a
//! refused request's body is never read, let alone buffered), and for a push the
//! writer's queue bound (`--max-queued-pushes`, 429 `push_queue_full`). `/health`
//! and unknown paths pass untouched: they read no body and hold nothing. The
//! router's middleware (`guard`) and the read's direct route (`dispatch`) both admit
//! through `admit`, so the two cannot differ.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::SemaphorePermit;

use super::error::{ApiError, Overload};
use super::{authorize, Access, App};

/// The token a path's route requires, for the routes that are bounded.
fn access(path: &str) -> Option<Access> {
    match path {
        "/push" | "/write-to-online-store" => Some(Access::Push),
        super::read::PATH | "/metrics" | "/dead-letters" | "/kafka/dead-letters" => {
            Some(Access::Read)
        }
        _ => None,
    }
}

/// The places an admitted request holds until it is answered.
pub struct Admitted<'a> {
    _handling: Option<SemaphorePermit<'a>>,
    _queued: Option<SemaphorePermit<'a>>,
}

/// Admits a request for `path` with `headers`, or gives the refusal to answer.
pub fn admit<'a>(app: &'a App, path: &str, headers: &HeaderMap) -> Result<Admitted<'a>, ApiError> {
    let Some(access) = access(path) else {
        return Ok(Admitted {
            _handling: None,
            _queued: None,
        });
    };
    let Ok(handling) = app.in_flight.try_acquire() else {
        app.counters.overloaded.in_flight.fetch_add(1, Relaxed);
        let limit = app.limits.max_in_flight;
        return Err(ApiError::Overloaded(Overload::InFlight { limit }));
    };
    authorize(app, headers, access)?;
    let queued = match access {
        Access::Push => {
            let Ok(queued) = app.queued_pushes.try_acquire() else {
                app.counters.overloaded.push_queue.fetch_add(1, Relaxed);
                let limit = app.limits.max_queued_pushes;
                return Err(ApiError::Overloaded(Overload::PushQueue { limit }));
            };
            Some(queued)
        }
        Access::Read => None,
    };
    Ok(Admitted {
        _handling: Some(handling),
        _queued: queued,
    })
}

/// The middleware (see the module docs).
pub async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    match admit(&app, request.uri().path(), request.headers()) {
        Ok(_admitted) => next.run(request).await,
        Err(refused) => refused.into_response(),
    }
}
