//! Moving HTTP clients off a stopping node. Once the drain starts, every response
//! says `Connection: close`, and a keep-alive connection with no request in flight is
//! closed at once, so pooled clients reconnect (through the load balancer, to another
//! node) instead of being served here until the shutdown timeout.
//!
//! actix-http has no hook to close an idle connection, so the TCP stream is wrapped:
//! its read side reports end-of-file when the connection is idle and the node is
//! stopping, which the dispatcher answers by closing the connection once any response
//! it is still writing is done.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use futures_util::future::BoxFuture;
use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::shutdown::{OpenSession, Shutdown};

/// What one connection's requests tell its stream: whether one is being served.
#[derive(Debug)]
pub struct ConnectionActivity {
    shutdown: Shutdown,
    in_flight: AtomicUsize,
    served: AtomicBool,
    reader: AtomicWaker,
}

impl ConnectionActivity {
    /// Idle: it has answered a request and is waiting for the next. A connection that
    /// has not sent its first request yet is left to send it.
    fn is_idle(&self) -> bool {
        self.served.load(Ordering::SeqCst) && self.in_flight.load(Ordering::SeqCst) == 0
    }
}

/// A request being handled on a connection; dropping it lets an idle connection close.
struct InFlight(Arc<ConnectionActivity>);

impl InFlight {
    fn start(activity: Arc<ConnectionActivity>) -> Self {
        activity.served.store(true, Ordering::SeqCst);
        activity.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.reader.wake();
    }
}

/// A TCP connection of the HTTP server, counted open until it closes.
pub struct DrainingStream {
    io: TcpStream,
    activity: Arc<ConnectionActivity>,
    stopping: BoxFuture<'static, ()>,
    draining: bool,
    _open: OpenSession,
}

impl DrainingStream {
    pub fn new(io: TcpStream, shutdown: &Shutdown) -> Self {
        Self {
            io,
            activity: Arc::new(ConnectionActivity {
                shutdown: shutdown.clone(),
                in_flight: AtomicUsize::new(0),
                served: AtomicBool::new(false),
                reader: AtomicWaker::new(),
            }),
            stopping: Box::pin(shutdown.started()),
            draining: false,
            _open: shutdown.connection_opened(),
        }
    }

    /// For the request extensions of every request on this connection.
    pub fn activity(&self) -> Arc<ConnectionActivity> {
        self.activity.clone()
    }

    /// The socket alone, for a session that leaves HTTP (a WebSocket), which the
    /// shutdown counts and closes on its own.
    pub fn into_inner(self) -> TcpStream {
        self.io
    }
}

impl AsyncRead for DrainingStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.draining && this.stopping.as_mut().poll(cx).is_ready() {
            this.draining = true;
        }
        if this.draining {
            // Woken when a request in flight finishes.
            this.activity.reader.register(cx.waker());
        }
        if !(this.draining && this.activity.is_idle()) {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        // A request already on its way is still read and answered (with `close`);
        // with nothing to read, end-of-file closes the connection.
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Ready(Ok(())) if buf.filled().len() > before => Poll::Ready(Ok(())),
            Poll::Ready(Ok(())) | Poll::Pending => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncWrite for DrainingStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Middleware, outermost: counts the request in flight on its connection, and once
/// the drain has started, answers with `Connection: close`.
pub async fn close_when_stopping(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let activity = request.conn_data::<Arc<ConnectionActivity>>().cloned();
    let _in_flight = activity.clone().map(InFlight::start);
    let mut response = next.call(request).await?;
    if activity.is_some_and(|activity| activity.shutdown.is_stopping()) {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(response)
}
