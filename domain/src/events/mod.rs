//! Real-time delivery: the events the portal pushes (messages, read markers,
//! presence), a bus that carries them between nodes (in-process, or NATS across
//! several), and a hub that hands each event only to the local subscribers allowed to
//! see it. The database stays the source of truth: a subscriber that falls behind is
//! told to resync from its last seq and dropped, so memory stays bounded.

mod bus;
mod hub;
mod metrics;
mod presence;
mod publisher;

use chrono::{DateTime, Utc};

use crate::sync::Positions;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use bus::{Arrival, Bus, InProcessBus, NatsBus};
pub use hub::{Delivery, Hub, Subscriber};
pub use metrics::HubMetrics;
pub use presence::PresenceSession;

/// A presence status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Online,
    Away,
    Busy,
    Offline,
}

impl Status {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Busy => "busy",
            Self::Offline => "offline",
        }
    }
}

/// A message as real time carries it: just sent or just edited, so it has a body.
/// Deletions travel as `MessageDeleted`, with no message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMessage {
    pub conversation_id: Uuid,
    pub seq: i64,
    pub sender_id: Uuid,
    pub client_msg_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    MessageCreated {
        message: LiveMessage,
    },
    MessageEdited {
        message: LiveMessage,
    },
    MessageDeleted {
        conversation_id: Uuid,
        seq: i64,
    },
    ReadMarker {
        conversation_id: Uuid,
        account_id: Uuid,
        seq: i64,
    },
    Presence {
        account_id: Uuid,
        status: Status,
    },
    /// A conversation was started with its members.
    ConversationStarted {
        conversation_id: Uuid,
    },
    /// A member muted or unmuted a conversation; only they hear of it.
    NotificationsChanged {
        conversation_id: Uuid,
        muted: bool,
    },
    /// A member started or stopped typing (ephemeral: never stored, never in the feed).
    Typing {
        conversation_id: Uuid,
        account_id: Uuid,
        typing: bool,
    },
    /// Conversations of these accounts changed: their contacts must be reloaded.
    MembershipChanged {
        accounts: Vec<Uuid>,
    },
}

impl Event {
    /// The conversation a chat event belongs to.
    pub fn conversation_id(&self) -> Option<Uuid> {
        match self {
            Self::MessageCreated { message } | Self::MessageEdited { message } => {
                Some(message.conversation_id)
            }
            Self::MessageDeleted {
                conversation_id, ..
            }
            | Self::ReadMarker {
                conversation_id, ..
            }
            | Self::ConversationStarted { conversation_id }
            | Self::Typing {
                conversation_id, ..
            }
            | Self::NotificationsChanged {
                conversation_id, ..
            } => Some(*conversation_id),
            Self::Presence { .. } | Self::MembershipChanged { .. } => None,
        }
    }
}

/// An event on the bus, with the node that sent it and the accounts it is for (chat
/// events); presence goes to whoever watches the account, decided on each node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub origin: Uuid,
    pub audience: Vec<Uuid>,
    pub event: Event,
    /// For a change in the catch-up feed: its position in each recipient's feed.
    #[serde(default, skip_serializing_if = "Positions::is_empty")]
    pub positions: Positions,
}
