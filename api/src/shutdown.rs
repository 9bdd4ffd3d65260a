//! Stopping on SIGTERM or SIGINT. Requests in flight finish; long-lived sessions
//! (WebSocket, Server-Sent Events) never finish on their own, so they are told first
//! and close with a reconnect hint, instead of being cut when the shutdown timeout
//! runs out.

use tokio::sync::watch;

/// Delay a client should wait before reconnecting after a shutdown hint: long enough
/// for a load balancer to notice this node is gone.
pub const RECONNECT_AFTER_MS: u64 = 1_000;

/// Announces that this node is stopping. Cloned into every session.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Sender<bool>);

impl Default for Shutdown {
    fn default() -> Self {
        Self(watch::Sender::new(false))
    }
}

impl Shutdown {
    /// Tells every session, present and future, that the node is stopping.
    pub fn begin(&self) {
        self.0.send_replace(true);
    }

    /// Completes once `begin` has been called (at once if it already was).
    pub fn started(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stopping = self.0.subscribe();
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
