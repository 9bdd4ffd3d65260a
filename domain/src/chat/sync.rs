//! Catch-up sync: what changed for the caller after the last position they saw, from
//! their change feed, each change with what a client needs to apply it (the message
//! as it is now, the read marker, the conversation row as the list shows it).

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entity::message;
use super::{ChatService, Conversation, Message};
use crate::DomainError;
use crate::access_log::Purpose;
use crate::actor::Actor;
use crate::page::PageLimits;
use crate::sync::{self, feed, head};

/// One change the caller must learn about, at its position in their feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub position: i64,
    pub conversation_id: Uuid,
    pub what: Changed,
}

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// A message was created, edited or deleted: here as it is now.
    Message(Message),
    /// A member's read marker moved.
    ReadMarker { account_id: Uuid, seq: i64 },
    /// The conversation was started with the caller (or its membership changed).
    Conversation(Conversation),
    /// The caller muted or unmuted the conversation.
    Notifications { muted: bool },
}

/// An answer of the feed: changes in order, the token to ask with next, and whether
/// more follow it already.
#[derive(Debug, Clone)]
pub struct SyncPage {
    pub changes: Vec<Change>,
    pub next: String,
    /// The position `next` names: the last change's, or where the caller already was.
    pub position: i64,
    pub limited: bool,
}

impl ChatService {
    /// Changes in one sync answer.
    pub const SYNC_PAGE: PageLimits = PageLimits {
        default: 100,
        max: 500,
    };

    /// The caller's changes after `since`; without it, the current position and no
    /// changes (a client loads its conversation list, then syncs from there).
    pub async fn sync(
        &self,
        actor: &Actor,
        since: Option<&str>,
        limit: Option<i64>,
    ) -> Result<SyncPage, DomainError> {
        let limit = Self::SYNC_PAGE.size("limit", limit)?;
        let head = self.feed_head(actor.account_id).await?;
        let Some(since) = since else {
            return Ok(self.sync_page(actor, Vec::new(), head, false));
        };
        let after = sync::open(&self.cursors, actor.account_id, since)?;
        // A position the feed never gave out (a restored database, a forged count).
        if !(0..=head).contains(&after) {
            return Err(DomainError::InvalidSyncToken);
        }
        let mut rows = feed::Entity::find()
            .filter(feed::Column::AccountId.eq(actor.account_id))
            .filter(feed::Column::Position.gt(after))
            .order_by_asc(feed::Column::Position)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        // Positions have no gap, and compaction deletes from the oldest: a range that
        // does not start right after `after` lost entries the client never saw.
        let compacted = rows
            .first()
            .map_or(after < head, |first| first.position != after + 1);
        if compacted {
            return Err(DomainError::InvalidSyncToken);
        }
        let limited = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let mut read: Vec<Uuid> = rows.iter().map(|row| row.conversation_id).collect();
        read.sort_unstable();
        read.dedup();
        self.log_reads(actor, read, Purpose::Care).await?;
        let reached = rows.last().map_or(after, |row| row.position);
        let changes = self.changes(actor, rows).await?;
        Ok(self.sync_page(actor, changes, reached, limited))
    }

    /// The token that resumes the caller's feed after `position`: what `next` holds,
    /// and what a stream sends as the id of the change at that position.
    pub fn sync_token(&self, actor: &Actor, position: i64) -> String {
        sync::seal(&self.cursors, actor.account_id, position)
    }

    fn sync_page(&self, actor: &Actor, changes: Vec<Change>, at: i64, limited: bool) -> SyncPage {
        SyncPage {
            changes,
            next: self.sync_token(actor, at),
            position: at,
            limited,
        }
    }

    async fn feed_head(&self, account_id: Uuid) -> Result<i64, DomainError> {
        Ok(head::Entity::find_by_id(account_id)
            .one(&self.db)
            .await?
            .map_or(0, |head| head.position))
    }

    /// Feed rows as changes: two queries for the messages and the conversations they
    /// name, whatever their number.
    async fn changes(
        &self,
        actor: &Actor,
        rows: Vec<feed::Model>,
    ) -> Result<Vec<Change>, DomainError> {
        let messages = self.messages_named(&rows).await?;
        let conversation_ids: Vec<Uuid> = rows
            .iter()
            .filter(|row| row.kind == "conversation")
            .map(|row| row.conversation_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let conversations = self.describe(actor, &conversation_ids).await?;
        let mut changes = Vec::with_capacity(rows.len());
        for row in rows {
            let what = match (row.kind.as_str(), row.seq, row.subject_id) {
                ("message", Some(seq), _) => match messages.get(&(row.conversation_id, seq)) {
                    Some(message) => Changed::Message(message.clone()),
                    None => continue,
                },
                ("read_marker", Some(seq), Some(account_id)) => {
                    Changed::ReadMarker { account_id, seq }
                }
                ("conversation", _, _) => match conversations.get(&row.conversation_id) {
                    Some(conversation) => Changed::Conversation(conversation.clone()),
                    None => continue,
                },
                ("muted", _, _) => Changed::Notifications { muted: true },
                ("unmuted", _, _) => Changed::Notifications { muted: false },
                (kind, _, _) => return Err(DomainError::corrupt("sync_feed.kind", kind)),
            };
            changes.push(Change {
                position: row.position,
                conversation_id: row.conversation_id,
                what,
            });
        }
        Ok(changes)
    }

    async fn messages_named(
        &self,
        rows: &[feed::Model],
    ) -> Result<HashMap<(Uuid, i64), Message>, DomainError> {
        let named: HashSet<(Uuid, i64)> = rows
            .iter()
            .filter(|row| row.kind == "message")
            .filter_map(|row| Some((row.conversation_id, row.seq?)))
            .collect();
        if named.is_empty() {
            return Ok(HashMap::new());
        }
        let mut condition = Condition::any();
        for (conversation_id, seq) in &named {
            condition = condition.add(
                Condition::all()
                    .add(message::Column::ConversationId.eq(*conversation_id))
                    .add(message::Column::Seq.eq(*seq)),
            );
        }
        Ok(message::Entity::find()
            .filter(condition)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| ((row.conversation_id, row.seq), Message::from(row)))
            .collect())
    }
}
