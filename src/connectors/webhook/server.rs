//! The accept loop and each connection's life. Written out instead of `axum::serve`
//! because a server on the internet needs what that one leaves out: a bound on open
//! connections (each is a file descriptor; without one, idle sockets exhaust them and
//! nothing else gets in), deadlines for headers and for idle keep-alive (so a client
//! that trickles bytes or sends none lets go of its slot), and a lingering close (so a
//! client answered before its body was read sees the answer, not a reset).
//!
//! At the connection limit a new connection takes the slot of the connection that has
//! waited longest without a request in progress: a request being served is never cut
//! off for a newcomer, and idle sockets cannot keep a real sender out. When every
//! connection is busy, the newcomer is answered 503 and closed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

use super::limits::Limits;
use crate::metrics;

/// Connections being answered 503 at once, beyond the limit; past these, excess
/// connections are closed without an answer.
const REFUSERS: usize = 64;
/// How long a closing connection's unread input is drained, and how much of it.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1 << 20;
/// The largest request head (and read buffer) of a connection.
const MAX_HEAD: usize = 64 << 10;

/// Serves `app` on `listener` within `limits` until the process ends.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits) -> std::io::Result<()> {
    let slots = Arc::new(Slots { max: limits.max_connections.max(1), live: Mutex::default() });
    let refusers = Arc::new(Semaphore::new(REFUSERS));
    let mut next = 0u64;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors or memory: wait for connections to close instead of
                // spinning; a connection the client dropped before accept is no error.
                if !matches!(e.kind(), std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset) {
                    metrics::add_global("webhook_accept_errors", 1);
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                continue;
            }
        };
        next += 1;
        match slots.admit(next) {
            Some(conn) => {
                tokio::spawn(connection(stream, app.clone(), conn, limits.clone(), slots.clone()));
            }
            None => refuse(stream, &refusers),
        }
    }
}

/// Where a connection is in its life, for its deadlines and for eviction.
struct Conn {
    id: u64,
    state: Mutex<Phase>,
    /// Set when the connection must close: evicted, or (by its own watchdog) timed out.
    evicted: AtomicBool,
    wake: Notify,
}

#[derive(Clone, Copy)]
struct Phase {
    /// Requests being served.
    busy: usize,
    /// Since when it waits for a request (its opening, or the end of its last answer).
    waiting_since: Instant,
    /// The first byte of the next request's head, once it came.
    head_since: Option<Instant>,
    /// Whether it has answered a request (then waiting is keep-alive idleness).
    served: bool,
}

impl Conn {
    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the connection must close if nothing changes; `None` while it is busy.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let p = *self.phase();
        if p.busy > 0 {
            return None;
        }
        Some(match p.head_since {
            Some(t) => t + limits.header_timeout,
            None if p.served => p.waiting_since + limits.idle_timeout,
            None => p.waiting_since + limits.header_timeout,
        })
    }

    fn heard(&self) {
        let mut p = self.phase();
        if p.busy == 0 && p.head_since.is_none() {
            p.head_since = Some(Instant::now());
            drop(p);
            self.wake.notify_one();
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.phase().busy += 1;
        self.wake.notify_one();
        Busy(self.clone())
    }
}

/// A request in progress on its connection; when it ends the connection waits again.
struct Busy(Arc<Conn>);

impl Drop for Busy {
    fn drop(&mut self) {
        let mut p = self.0.phase();
        p.busy = p.busy.saturating_sub(1);
        p.waiting_since = Instant::now();
        p.head_since = None;
        p.served = true;
        drop(p);
        self.0.wake.notify_one();
    }
}

/// The open connections.
struct Slots {
    max: usize,
    live: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Slots {
    fn live(&self) -> MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot for connection `id`: a free one, or the one of the connection idle the
    /// longest, which is closed; `None` when every connection is serving a request.
    fn admit(&self, id: u64) -> Option<Arc<Conn>> {
        let mut live = self.live();
        if live.len() >= self.max {
            let idle = live
                .values()
                .filter_map(|c| {
                    let p = *c.phase();
                    (p.busy == 0).then_some((p.waiting_since, c.id))
                })
                .min()?;
            if let Some(old) = live.remove(&idle.1) {
                old.evicted.store(true, Ordering::Release);
                old.wake.notify_one();
                metrics::add_global("webhook_connections_evicted", 1);
            }
        }
        let now = Instant::now();
        let conn = Arc::new(Conn {
            id,
            state: Mutex::new(Phase { busy: 0, waiting_since: now, head_since: None, served: false }),
            evicted: AtomicBool::new(false),
            wake: Notify::new(),
        });
        live.insert(id, conn.clone());
        metrics::set_global("webhook_connections", live.len() as u64);
        Some(conn)
    }

    fn leave(&self, id: u64) {
        let mut live = self.live();
        live.remove(&id);
        metrics::set_global("webhook_connections", live.len() as u64);
    }
}

/// Answers 503 to a connection over the limit, without reading its request, then
/// closes it; only `REFUSERS` at a time, the rest are closed at once.
fn refuse(stream: TcpStream, refusers: &Arc<Semaphore>) {
    metrics::add_global("webhook_connections_refused", 1);
    let Ok(permit) = refusers.clone().try_acquire_owned() else { return };
    tokio::spawn(async move {
        let mut stream = stream;
        let text =
            "HTTP/1.1 503 Service Unavailable\r\nretry-after: 5\r\nconnection: close\r\ncontent-type: text/plain\r\n\
                    content-length: 22\r\n\r\nbusy: try again later\n";
        if tokio::time::timeout(LINGER, stream.write_all(text.as_bytes())).await.is_ok_and(|r| r.is_ok()) {
            linger(stream).await;
        }
        drop(permit);
    });
}

/// Closes the connection's sending side and reads what the client still sends, for a
/// while, so that closing does not reset a connection whose answer is still unread.
async fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut buf = [0u8; 8192];
    let mut total = 0;
    let _ = tokio::time::timeout(LINGER, async {
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            total += n;
            if total > LINGER_BYTES {
                break;
            }
        }
    })
    .await;
}

async fn connection(stream: TcpStream, app: Router, conn: Arc<Conn>, limits: Limits, slots: Arc<Slots>) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(Watched { inner: stream, conn: conn.clone() });
    let on = conn.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let busy = on.begin();
        let app = app.clone();
        async move {
            let answer = app.oneshot(req.map(axum::body::Body::new)).await;
            drop(busy);
            Ok::<_, Infallible>(answer.unwrap_or_else(|never| match never {}))
        }
    });
    let http = hyper::server::conn::http1::Builder::new()
        .max_buf_size(MAX_HEAD)
        .serve_connection(io, service)
        .without_shutdown();
    tokio::select! {
        done = http => {
            if let Ok(parts) = done {
                linger(parts.io.into_inner().inner).await;
            }
        }
        () = watch(&conn, &limits) => {}
    }
    slots.leave(conn.id);
}

/// Returns when the connection must close: evicted, or past its header or idle deadline.
async fn watch(conn: &Conn, limits: &Limits) {
    loop {
        if conn.evicted.load(Ordering::Acquire) {
            return;
        }
        match conn.deadline(limits) {
            Some(at) if at <= Instant::now() => {
                metrics::add_global("webhook_connections_timed_out", 1);
                return;
            }
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = conn.wake.notified() => {}
                }
            }
            None => conn.wake.notified().await,
        }
    }
}

/// A connection's stream, telling its `Conn` when the head of a request starts to come.
struct Watched {
    inner: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.heard();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
