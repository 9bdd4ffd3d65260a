//! Live changes in feed order, for every door that streams them. Changes reach a node
//! out of order (two sends commit in one order and publish in the other; two nodes
//! publish independently), so a change that arrives ahead of one not yet sent brings
//! the ones between it from the feed first, and so does one whose event carries too
//! little to show (a deletion, a new conversation). A stream therefore sends
//! consecutive positions, and the last one a client got is always a safe place to
//! resume from.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use super::{Change, Changed, ChatService, Message};
use crate::DomainError;
use crate::actor::Actor;
use crate::events::{Event, LiveMessage};

/// Where one stream is in its reader's feed: the last position it sent. Cheap to
/// clone; clones share the position.
#[derive(Debug, Clone)]
pub struct FeedCursor {
    chat: ChatService,
    reader: Actor,
    sent: Arc<AtomicI64>,
}

impl FeedCursor {
    /// A cursor for `reader` that has sent everything up to position `sent`.
    pub fn new(chat: ChatService, reader: Actor, sent: i64) -> Self {
        Self {
            chat,
            reader,
            sent: Arc::new(AtomicI64::new(sent)),
        }
    }

    /// The changes to send when `event` arrives at `position` in the reader's feed:
    /// none if it was sent already, the change itself when it is the next one, and
    /// otherwise what follows the last one sent, read from the feed.
    pub async fn changes_for(
        &self,
        event: &Event,
        position: i64,
    ) -> Result<Vec<Change>, DomainError> {
        let sent = self.sent.load(Ordering::Acquire);
        if position <= sent {
            return Ok(Vec::new());
        }
        let conversation_id = event.conversation_id();
        if let (true, Some(conversation_id), Some(what)) = (
            position == sent + 1,
            conversation_id,
            Changed::of_live(event),
        ) {
            self.sent.store(position, Ordering::Release);
            return Ok(vec![Change {
                position,
                conversation_id,
                what,
            }]);
        }
        let since = self.chat.sync_token(&self.reader, sent);
        let page_size = Some(ChatService::SYNC_PAGE.max as i64);
        let page = self
            .chat
            .sync(&self.reader, Some(&since), page_size)
            .await?;
        self.sent.store(page.position, Ordering::Release);
        Ok(page.changes)
    }

    /// The token that resumes after `position`.
    pub fn token(&self, position: i64) -> String {
        self.chat.sync_token(&self.reader, position)
    }
}

impl Changed {
    /// What a live event says, when it says enough to apply it.
    fn of_live(event: &Event) -> Option<Self> {
        Some(match event {
            Event::MessageCreated { message } | Event::MessageEdited { message } => {
                Self::Message(message.clone().into())
            }
            Event::ReadMarker {
                account_id, seq, ..
            } => Self::ReadMarker {
                account_id: *account_id,
                seq: *seq,
            },
            Event::NotificationsChanged { muted, .. } => Self::Notifications { muted: *muted },
            _ => return None,
        })
    }
}

impl From<LiveMessage> for Message {
    fn from(live: LiveMessage) -> Self {
        Self {
            conversation_id: live.conversation_id,
            seq: live.seq,
            sender_id: live.sender_id,
            client_msg_id: live.client_msg_id,
            body: Some(live.body),
            created_at: live.created_at,
            edited_at: live.edited_at,
            deleted: false,
        }
    }
}
