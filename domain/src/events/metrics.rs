//! The counters real time keeps for `/metrics`, shared by the hub and presence.

use std::sync::atomic::{AtomicI64, AtomicU64};

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct HubMetrics {
    /// Open presence sessions (WebSocket connections and SSE streams) on this node.
    pub sessions: AtomicI64,
    /// Presence changes published by this node.
    pub presence_changes: AtomicU64,
    /// Deliveries handed to local subscribers.
    pub events_fanned_out: AtomicU64,
    /// Subscribers dropped for falling behind.
    pub slow_subscribers_dropped: AtomicU64,
    /// Database statements issued by the presence subsystem (contact loading when a
    /// session opens or membership changes; never on a status change).
    pub presence_db_statements: AtomicU64,
    /// Times the bus may have lost envelopes (a reconnect, a lag), each answered by a
    /// resync of every local subscriber.
    pub bus_gaps: AtomicU64,
}
