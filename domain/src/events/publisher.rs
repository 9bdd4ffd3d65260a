//! Putting an event on the bus, stamped with this node: the one handle presence needs
//! to publish, so it never reaches into the hub.

use std::sync::Arc;

use uuid::Uuid;

use super::{Bus, Envelope, Event};

/// What puts an event on the bus, stamped with this node: the one handle presence
/// needs to publish.
#[derive(Clone)]
pub(crate) struct Publisher {
    pub(crate) node: Uuid,
    pub(crate) bus: Arc<dyn Bus>,
}

impl Publisher {
    /// Sends `event` to `audience` on every node. Failures are logged, never passed
    /// to the caller: the database already holds the truth and clients resync.
    pub(crate) async fn publish(&self, audience: Vec<Uuid>, event: Event) {
        let envelope = Envelope {
            origin: self.node,
            audience,
            event,
        };
        if let Err(err) = self.bus.publish(&envelope).await {
            tracing::warn!(error = %err, "event not delivered to other nodes");
        }
    }
}
