//! Stopping on SIGTERM or SIGINT. Requests in flight finish; long-lived sessions
//! (WebSocket, Server-Sent Events) never finish on their own, so they are told first
//! and close with a reconnect hint, instead of being cut when the shutdown timeout
//! runs out. Idle HTTP connections are closed at once (`drain`), and the process
//! exits as soon as no connection and no session is left.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// Delay a client should wait before reconnecting after a shutdown hint: long enough
/// for a load balancer to notice this node is gone.
pub const RECONNECT_AFTER_MS: u64 = 1_000;

/// Announces that this node is stopping, and counts its HTTP connections and the
/// WebSocket sessions that run as tasks of their own.
#[derive(Debug, Clone)]
pub struct Shutdown {
    stopping: watch::Sender<bool>,
    sessions: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            stopping: watch::Sender::new(false),
            sessions: Arc::default(),
            connections: Arc::default(),
        }
    }
}

/// Held by a running session or an open connection; dropping it counts it closed.
#[derive(Debug)]
pub struct OpenSession(Arc<AtomicUsize>);

impl Drop for OpenSession {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Shutdown {
    /// Tells every session, present and future, that the node is stopping.
    pub fn begin(&self) {
        self.stopping.send_replace(true);
    }

    /// Whether the drain has started: `/readyz` says 503 from then on.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Counts a WebSocket session open until the returned guard is dropped.
    pub fn session_opened(&self) -> OpenSession {
        self.sessions.fetch_add(1, Ordering::Relaxed);
        OpenSession(self.sessions.clone())
    }

    /// Counts an HTTP connection open until the returned guard is dropped.
    pub fn connection_opened(&self) -> OpenSession {
        self.connections.fetch_add(1, Ordering::Relaxed);
        OpenSession(self.connections.clone())
    }

    /// Completes when no session and no connection is open, or after `limit`.
    pub async fn drained(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        let open =
            || self.sessions.load(Ordering::Relaxed) + self.connections.load(Ordering::Relaxed);
        while open() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Completes once `begin` has been called (at once if it already was).
    pub fn started(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stopping = self.stopping.subscribe();
        async move {
            // An error means the sender is gone, which only happens when the whole
            // application is dropped: stopping, too.
            let _ = stopping.wait_for(|stopping| *stopping).await;
        }
    }
}

/// Completes on the first SIGTERM (what orchestrators send) or SIGINT (Ctrl-C).
pub async fn signalled() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = terminate.recv() => Ok(()),
            result = tokio::signal::ctrl_c() => result,
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
