//! The listener: accepts connections and serves HTTP/1.1 on each, within bounds.
//! At most `--max-connections` are served; past it a small reserve
//! (`OVERFLOW_RESERVE`) answers `/health` as usual and anything else a 503
//! `too_many_connections`, then closes, with a short deadline (`OVERFLOW_DEADLINE`)
//! for its request; beyond the reserve a connection is closed as soon as it is
//! accepted, holding nothing. A served connection must send a request's headers
//! within `--header-timeout` of opening or of its previous answer (so an idle
//! keep-alive or a slowloris client is closed), and one on which no byte moves
//! either way for `--idle-timeout` is closed (a stalled body, an answer nobody
//! reads). On stop, no connection is accepted, idle ones close, and the rest
//! finish their request first. The listening socket's accept queue holds
//! `--listen-backlog` connections (`bind`), so a burst of connects waits there for
//! the accept loop instead of having its SYNs dropped (and retried a second later).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::dispatch::Dispatch;
use super::App;

/// Connections past `--max-connections` that are still answered (`/health`, or a
/// 503 naming the limit), so a health check gets through a flood.
pub const OVERFLOW_RESERVE: u32 = 64;

/// How long a connection of the reserve may take to send its request.
pub const OVERFLOW_DEADLINE: Duration = Duration::from_millis(250);

/// How long to wait before accepting again after accept failed (e.g. no file
/// descriptor left): short, so `/health` is not held up long.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Binds `addr` with an accept queue of `backlog` connections (the kernel caps it at
/// `net.core.somaxconn`; tokio's own `bind` asks for 1024).
pub fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As tokio's `bind`: a restarted server can take its address back while the old
    // one's connections linger in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Serves `app`'s routes on `listener` until `stop` turns true, then waits for
/// every connection to end.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let limits = &app.limits;
    let served = Lane::new(
        Dispatch::reads_first(Arc::clone(&app), super::router(Arc::clone(&app))),
        limits.max_connections,
        limits.header_timeout,
        limits.idle_timeout,
        true,
    );
    let overflow = Lane::new(
        Dispatch::router(super::overflow_router(Arc::clone(&app))),
        OVERFLOW_RESERVE,
        OVERFLOW_DEADLINE,
        OVERFLOW_DEADLINE,
        false,
    );
    accept_until(&listener, &mut stop, |stream, stop| {
        let Err(stream) = served.take(stream, stop) else {
            return;
        };
        let overloaded = &app.counters.overloaded;
        match overflow.take(stream, stop) {
            Ok(()) => overloaded.connections_answered.fetch_add(1, Relaxed),
            // Closed now: the client sees its connection end, and nothing is held.
            Err(_closed) => overloaded.connections_closed.fetch_add(1, Relaxed),
        };
    })
    .await;
    drop(listener);
    served.drained().await;
    overflow.drained().await;
    Ok(())
}

/// Accepts connections on `listener` and hands each to `each` (which serves it on a
/// task of its own or drops it, never waits) until `stop` turns true.
pub(super) async fn accept_until(
    listener: &TcpListener,
    stop: &mut watch::Receiver<bool>,
    mut each: impl FnMut(TcpStream, &watch::Receiver<bool>),
) {
    loop {
        let accepted = tokio::select! {
            _ = stopped(stop) => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => each(stream, stop),
            Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
        }
    }
}

/// Returns once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// A kind of connection: its routes, its permits and its timeouts.
pub(super) struct Lane {
    routes: Dispatch,
    permits: Arc<Semaphore>,
    size: u32,
    header_timeout: Duration,
    idle_timeout: Duration,
    keep_alive: bool,
}

impl Lane {
    /// At most `size` connections at once served by `routes`, each closed if it does
    /// not send a request's headers within `header_timeout` or moves no byte for
    /// `idle_timeout`; one request each unless `keep_alive`.
    pub(super) fn new(
        routes: Dispatch,
        size: u32,
        header_timeout: Duration,
        idle_timeout: Duration,
        keep_alive: bool,
    ) -> Lane {
        Lane {
            routes,
            permits: Arc::new(Semaphore::new(size as usize)),
            size,
            header_timeout,
            idle_timeout,
            keep_alive,
        }
    }

    /// Serves `stream` on its own task if the lane has room; gives it back if not.
    pub(super) fn take(
        &self,
        stream: TcpStream,
        stop: &watch::Receiver<bool>,
    ) -> Result<(), TcpStream> {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            return Err(stream);
        };
        let connection = Connection {
            routes: self.routes.clone(),
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
            keep_alive: self.keep_alive,
        };
        tokio::spawn(connection.run(stream, stop.clone(), permit));
        Ok(())
    }

    /// Waits until every connection of the lane has ended.
    pub(super) async fn drained(&self) {
        let _ = self.permits.acquire_many(self.size).await;
    }
}

/// One connection's settings.
struct Connection {
    routes: Dispatch,
    header_timeout: Duration,
    idle_timeout: Duration,
    keep_alive: bool,
}

impl Connection {
    /// Serves the connection until it ends, is idle too long, or the server stops;
    /// `_permit` is its place in its lane, given back when this returns.
    async fn run(
        self,
        stream: TcpStream,
        mut stop: watch::Receiver<bool>,
        _permit: OwnedSemaphorePermit,
    ) {
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched {
            inner: stream,
            activity: Arc::clone(&activity),
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout)
            .keep_alive(self.keep_alive);
        let connection = builder.serve_connection(io, self.routes);
        tokio::pin!(connection);
        let mut stopping = *stop.borrow();
        if stopping {
            connection.as_mut().graceful_shutdown();
        }
        loop {
            let idle_at = activity.last() + self.idle_timeout;
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = stopped(&mut stop), if !stopping => {
                    stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
                _ = tokio::time::sleep_until(idle_at) => {
                    if activity.last() + self.idle_timeout <= Instant::now() {
                        // Dropping the connection closes its socket.
                        return;
                    }
                }
            }
        }
    }
}

/// When a connection last moved a byte (milliseconds after it opened).
struct Activity {
    opened: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Relaxed);
    }

    fn last(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Relaxed))
    }
}

/// A socket that notes in `activity` every read or write that moved bytes.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
