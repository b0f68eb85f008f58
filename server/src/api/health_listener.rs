//! The health listener (`--health-listen ADDR`): `GET /health`, and `GET /metrics`
//! behind the read token, on an address of their own, served by a thread and a
//! runtime of their own. A flood on the data port fills its connection limit, its
//! reserve, its accept queue and its runtime's workers; none of them is this
//! listener's, so an orchestrator's liveness probe is answered all the same. Its own
//! bounds are small: `HEALTH_CONNECTIONS` at once (beyond, closed on accept, holding
//! nothing), one request each, sent within `HEALTH_DEADLINE`. It stops last, when
//! the server has finished stopping, so `/health` says `shutting_down` meanwhile.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use super::connections::{accept_until, Lane};
use super::dispatch::Dispatch;
use super::{authorize, ops, Access, App};

/// Connections the health listener serves at once: probes are short and few.
pub const HEALTH_CONNECTIONS: u32 = 16;

/// How long a health connection may take to send its request (and to read its
/// answer): an orchestrator's probe sends it at once.
pub const HEALTH_DEADLINE: Duration = Duration::from_secs(1);

/// A running health listener.
pub struct HealthListener {
    /// The address it listens on (the port is real even for `:0`).
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: std::thread::JoinHandle<()>,
}

impl HealthListener {
    /// Serves `listener` (bound on the caller's runtime) on a thread of its own until
    /// `stop` is called or the `HealthListener` is dropped.
    pub async fn start(listener: TcpListener, app: Arc<App>) -> std::io::Result<HealthListener> {
        let addr = listener.local_addr()?;
        // Moved to the thread's own runtime, whose reactor alone then watches it.
        let listener = listener.into_std()?;
        let (stop, stopped) = watch::channel(false);
        let (started, outcome) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("featc-health".into())
            .spawn(move || run(listener, app, stopped, started))?;
        match outcome.await {
            Ok(Ok(())) => Ok(HealthListener { addr, stop, thread }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(std::io::Error::other(
                "the health listener's thread ended before it started",
            )),
        }
    }

    /// Stops accepting, lets the connections in progress finish, and waits for the
    /// thread to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}

/// The thread: a runtime of its own serving `listener`; says on `started` whether it
/// could begin.
fn run(
    listener: std::net::TcpListener,
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
    started: oneshot::Sender<std::io::Result<()>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = started.send(Err(e));
                return;
            }
        };
        let _ = started.send(Ok(()));
        let lane = Lane::new(
            Dispatch::router(router(app)),
            HEALTH_CONNECTIONS,
            HEALTH_DEADLINE,
            HEALTH_DEADLINE,
            false,
        );
        accept_until(&listener, &mut stop, |stream, stop| {
            // Past the limit the connection is dropped, so closed now.
            let _ = lane.take(stream, stop);
        })
        .await;
        drop(listener);
        lane.drained().await;
    });
}

/// The health listener's routes. `/metrics` is not behind `--max-in-flight` here
/// (a flood of reads fills that): `HEALTH_CONNECTIONS` bounds it instead.
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/health", get(ops::health))
        .route("/metrics", get(metrics))
        .fallback(ops::not_found)
        .with_state(app)
}

/// `/metrics` with the read token, as on the data port.
async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(e) = authorize(&app, &headers, Access::Read) {
        return e.into_response();
    }
    ops::metrics(State(app)).await
}
