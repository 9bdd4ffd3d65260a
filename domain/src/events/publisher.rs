//! Putting an event on the bus, stamped with this node: the one handle presence needs
//! to publish, so it never reaches into the hub.

use std::sync::Arc;

use uuid::Uuid;

use super::{Bus, Envelope, Event};
use crate::sync::Positions;

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
        self.publish_at(audience, event, Positions::new()).await;
    }

    /// Sends `event`, a change at `positions` in its recipients' feeds, to them.
    pub(crate) async fn publish_change(&self, event: Event, positions: Positions) {
        let audience = positions.keys().copied().collect();
        self.publish_at(audience, event, positions).await;
    }

    async fn publish_at(&self, audience: Vec<Uuid>, event: Event, positions: Positions) {
        let envelope = Envelope {
            origin: self.node,
            audience,
            event,
            positions,
        };
        if let Err(err) = self.bus.publish(&envelope).await {
            tracing::warn!(error = %err, "event not delivered to other nodes");
        }
    }
}
