//! The service each served connection runs: a read (`POST /get-online-features`) is
//! answered straight from hyper, everything else goes to the router. A single-entity
//! read costs about 25 us of CPU, and the router's layers (matching, the guard's
//! middleware, boxed futures, the extractors' copies of the headers) took about a
//! tenth of it; the direct way runs the same steps (`guard::admit`, the body within
//! the limit, `read::respond`), so a read is answered the same either way
//! (server/tests/serve_dispatch.rs).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{Method, Request};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use tower::ServiceExt;

use super::error::ApiError;
use super::App;

/// A connection's service (see the module docs): reads first when it has the app
/// they read, else the router alone (the overflow and health lanes, whose routers
/// answer reads otherwise).
#[derive(Clone)]
pub struct Dispatch {
    reads: Option<Arc<App>>,
    router: Router,
}

impl Dispatch {
    /// Reads of `app` answered directly, anything else by `router` (which must be
    /// `super::router(app)`: it answers reads the same way).
    pub fn reads_first(app: Arc<App>, router: Router) -> Dispatch {
        Dispatch {
            reads: Some(app),
            router,
        }
    }

    /// Every request answered by `router`.
    pub fn router(router: Router) -> Dispatch {
        Dispatch {
            reads: None,
            router,
        }
    }
}

type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl Dispatch {
    /// The answer to `request` (of any body type: a connection's, or a test's).
    pub fn answer<B>(&self, request: Request<B>) -> Answer
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        match &self.reads {
            Some(app)
                if request.method() == Method::POST
                    && request.uri().path() == super::read::PATH =>
            {
                Box::pin(read(Arc::clone(app), request))
            }
            _ => Box::pin(self.router.clone().oneshot(request)),
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for Dispatch {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: Request<Incoming>) -> Answer {
        self.answer(request)
    }
}

/// A read, as the router would answer it: admitted by the guard before its body is
/// read, its body read within the limit, then answered.
async fn read<B>(app: Arc<App>, request: Request<B>) -> Result<Response, Infallible>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let admitted = super::guard::admit(&app, super::read::PATH, request.headers());
    let _admitted = match admitted {
        Ok(admitted) => admitted,
        Err(refused) => return Ok(refused.into_response()),
    };
    let (parts, body) = request.into_parts();
    let body = body_within(body, app.limits.body_limit).await;
    Ok(super::read::respond(Arc::clone(&app), parts.headers, parts.uri, body).await)
}

/// The whole body, or why not: past `limit` bytes it is refused as soon as the
/// bytes read pass it (axum's `DefaultBodyLimit` of the router does the same).
async fn body_within<B>(body: B, limit: usize) -> Result<Bytes, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, limit.saturating_add(1)).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::BodyTooLarge { limit })
        }
        // The words of axum's rejection, which the router answers.
        Err(e) => Err(ApiError::BadJson(format!(
            "Failed to buffer the request body: {e}"
        ))),
    }
}
