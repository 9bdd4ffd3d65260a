//! What a client sees of its change feed, in both doors.

use async_graphql::{Enum, SimpleObject};
use domain::chat::{Change, Changed};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Conversation, Message};

/// What a change is about; it says which of the change's fields are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, Enum)]
#[serde(rename_all = "snake_case")]
pub enum SyncChangeKind {
    /// A message was created, edited or deleted: `message` is it as it is now.
    Message,
    /// A member's read marker moved: `account_id` and `seq`.
    ReadMarker,
    /// A conversation was started with the caller: `conversation` is its list row.
    Conversation,
    /// The caller muted or unmuted the conversation: `muted`.
    Notifications,
}

/// One change, with what a client needs to apply it without another call.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct SyncChange {
    /// The change's place in the caller's feed; changes come in this order.
    pub position: i64,
    pub kind: SyncChangeKind,
    pub conversation_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Whose read marker moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<Uuid>,
    /// The seq that read marker moved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Conversation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
}

impl From<Change> for SyncChange {
    fn from(change: Change) -> Self {
        let mut view = Self {
            position: change.position,
            kind: SyncChangeKind::Message,
            conversation_id: change.conversation_id,
            message: None,
            account_id: None,
            seq: None,
            conversation: None,
            muted: None,
        };
        match change.what {
            Changed::Message(message) => view.message = Some(message.into()),
            Changed::ReadMarker { account_id, seq } => {
                view.kind = SyncChangeKind::ReadMarker;
                (view.account_id, view.seq) = (Some(account_id), Some(seq));
            }
            Changed::Conversation(conversation) => {
                view.kind = SyncChangeKind::Conversation;
                view.conversation = Some(conversation.into());
            }
            Changed::Notifications { muted } => {
                view.kind = SyncChangeKind::Notifications;
                view.muted = Some(muted);
            }
        }
        view
    }
}

/// Changes after a sync token, in order.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct SyncPage {
    pub changes: Vec<SyncChange>,
    /// Ask with this next time (opaque, signed, bound to the caller).
    pub next: String,
    /// More changes follow already: ask again with `next` at once.
    pub limited: bool,
}

impl From<domain::chat::SyncPage> for SyncPage {
    fn from(page: domain::chat::SyncPage) -> Self {
        Self {
            changes: page.changes.into_iter().map(Into::into).collect(),
            next: page.next,
            limited: page.limited,
        }
    }
}
