//! Closes connections on which nothing moves.
//!
//! hyper's header-read timer covers an HTTP/1 request that trickles in and
//! a keep-alive connection waiting for its next request, but nothing times
//! the bytes hyper-util reads to tell HTTP/1 from HTTP/2, nor an idle HTTP/2
//! connection: a client that connects and sends nothing (or half the HTTP/2
//! preface) would hold a descriptor forever, and enough of them stop the
//! server accepting. Every connection's reads and writes therefore tick a
//! counter, and a watchdog aborts the connection once a whole interval
//! passes without a tick.

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::AbortHandle;

/// A connection's I/O, counting each read or write that moved bytes.
pub(super) struct Watched<IO> {
    io: IO,
    activity: Arc<AtomicU64>,
}

impl<IO> Watched<IO> {
    pub(super) fn new(io: IO) -> (Self, Arc<AtomicU64>) {
        let activity = Arc::new(AtomicU64::new(0));
        (Self { io, activity: Arc::clone(&activity) }, activity)
    }

    fn tick(&self) {
        // Only this connection's task writes the counter, so a plain load
        // and store (no locked read-modify-write) is enough.
        self.activity.store(self.activity.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.tick();
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.tick();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.tick();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Aborts `connection` once `idle` passes with no byte read or written (a
/// silent connection: after `idle`; one that went quiet: within `2 × idle`).
/// One timer per connection per interval, nothing per request.
pub(super) fn spawn_watchdog(connection: AbortHandle, activity: Arc<AtomicU64>, idle: Duration) {
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            tokio::time::sleep(idle).await;
            if connection.is_finished() {
                return;
            }
            let now = activity.load(Ordering::Relaxed);
            if now == seen {
                tracing::debug!(?idle, "closing a connection on which nothing moved");
                connection.abort();
                return;
            }
            seen = now;
        }
    });
}
