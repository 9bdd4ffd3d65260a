//! Sending (idempotent, seq assigned in the insert's transaction), editing, deleting
//! and reading windows of history.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::{conversation, member, message, revision};
use super::window::{Anchor, WindowRequest, flags};
use super::{ChatService, Message, MessageWindow, Sent};
use crate::DomainError;
use crate::actor::Actor;
use crate::events::Event;
use crate::page::{Direction, Page, PageRequest};
use crate::text::{self, Lines};

/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Longest `client_msg_id`.
const MAX_CLIENT_MSG_ID: usize = 64;

fn check_body(body: &str) -> Result<(), DomainError> {
    text::field("body", body, Lines::Many)?;
    if body.trim().is_empty() {
        return Err(DomainError::Validation("body: must not be empty".into()));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(DomainError::Validation(format!(
            "body: must be at most {MAX_BODY_CHARS} characters"
        )));
    }
    Ok(())
}

impl ChatService {
    /// Sends `body` as the caller. Idempotent by `client_msg_id` (per conversation
    /// and sender): a retry with the same body returns the stored message, the same id
    /// with another body is refused, and concurrent retries store one message.
    pub async fn send(
        &self,
        actor: &Actor,
        id: Uuid,
        client_msg_id: &str,
        body: String,
    ) -> Result<Sent, DomainError> {
        check_body(&body)?;
        let valid_key = (1..=MAX_CLIENT_MSG_ID).contains(&client_msg_id.len())
            && client_msg_id.bytes().all(|b| b.is_ascii_graphic());
        if !valid_key {
            return Err(DomainError::Validation(format!(
                "client_msg_id: 1 to {MAX_CLIENT_MSG_ID} printable ASCII characters"
            )));
        }
        self.member_access(actor, id).await?;
        if let Some(sent) = self.earlier_send(actor, id, client_msg_id, &body).await? {
            return Ok(sent);
        }
        let gate = self.gate(id);
        let _in_order = gate.lock().await;
        match self
            .insert_message(actor, id, client_msg_id, body.clone())
            .await
        {
            Ok(message) => {
                let audience = self.members_of(id).await?;
                let event = Event::MessageCreated {
                    message: message.clone(),
                };
                self.hub.publish(audience, event).await;
                Ok(Sent {
                    message,
                    created: true,
                })
            }
            // A concurrent retry stored it first: answer as a retry.
            Err(DomainError::Conflict(_)) => self
                .earlier_send(actor, id, client_msg_id, &body)
                .await?
                .ok_or(DomainError::Unavailable),
            Err(other) => Err(other),
        }
    }

    async fn earlier_send(
        &self,
        actor: &Actor,
        id: Uuid,
        client_msg_id: &str,
        body: &str,
    ) -> Result<Option<Sent>, DomainError> {
        let earlier = message::Entity::find()
            .filter(message::Column::ConversationId.eq(id))
            .filter(message::Column::SenderId.eq(actor.account_id))
            .filter(message::Column::ClientMsgId.eq(client_msg_id))
            .one(&self.db)
            .await?;
        let Some(earlier) = earlier else {
            return Ok(None);
        };
        let same = earlier.body.as_deref() == Some(body)
            || self.original_body(&earlier).await?.as_deref() == Some(body);
        if !same {
            return Err(DomainError::IdempotencyKeyReused);
        }
        Ok(Some(Sent {
            message: earlier.into(),
            created: false,
        }))
    }

    /// The body a message was sent with, when it has since been edited or deleted.
    async fn original_body(&self, row: &message::Model) -> Result<Option<String>, DomainError> {
        if row.edited_at.is_none() && row.deleted_at.is_none() {
            return Ok(None);
        }
        Ok(revision::Entity::find()
            .filter(revision::Column::ConversationId.eq(row.conversation_id))
            .filter(revision::Column::Seq.eq(row.seq))
            .order_by_asc(revision::Column::Revision)
            .one(&self.db)
            .await?
            .map(|r| r.body))
    }

    /// Takes the next seq and stores the message in one transaction. The counter is
    /// bumped by the transaction's first statement, an UPDATE: it takes the row lock on
    /// PostgreSQL and MariaDB and the write lock on SQLite before anything is read, so
    /// seq order is commit order and no two sends share a seq.
    async fn insert_message(
        &self,
        actor: &Actor,
        id: Uuid,
        client_msg_id: &str,
        body: String,
    ) -> Result<Message, DomainError> {
        let now = crate::clock::now();
        let txn = self.db.begin().await?;
        conversation::Entity::update_many()
            .col_expr(
                conversation::Column::LastSeq,
                Expr::col(conversation::Column::LastSeq).add(1),
            )
            .col_expr(conversation::Column::LastActivityAt, Expr::value(now))
            .filter(conversation::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        let seq: i64 = conversation::Entity::find_by_id(id)
            .select_only()
            .column(conversation::Column::LastSeq)
            .into_tuple()
            .one(&txn)
            .await?
            .ok_or(DomainError::NotFound {
                entity: "conversation",
            })?;
        let row = message::ActiveModel {
            conversation_id: Set(id),
            seq: Set(seq),
            sender_id: Set(actor.account_id),
            client_msg_id: Set(client_msg_id.to_owned()),
            body: Set(Some(body.clone())),
            created_at: Set(now),
            edited_at: Set(None),
            deleted_at: Set(None),
        };
        message::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(|e| DomainError::on_duplicate(e, "client_msg_id already used"))?;
        member::Entity::update_many()
            .col_expr(member::Column::LastActivityAt, Expr::value(now))
            .filter(member::Column::ConversationId.eq(id))
            .exec(&txn)
            .await?;
        // The sender has read what they sent.
        member::Entity::update_many()
            .col_expr(member::Column::LastReadSeq, Expr::value(seq))
            .filter(member::Column::ConversationId.eq(id))
            .filter(member::Column::AccountId.eq(actor.account_id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(Message {
            conversation_id: id,
            seq,
            sender_id: actor.account_id,
            client_msg_id: client_msg_id.to_owned(),
            body: Some(body),
            created_at: now,
            edited_at: None,
            deleted: false,
        })
    }

    /// Replaces the body of the caller's own message; the earlier body is kept.
    pub async fn edit(
        &self,
        actor: &Actor,
        id: Uuid,
        seq: i64,
        body: String,
    ) -> Result<Message, DomainError> {
        check_body(&body)?;
        let current = self.own_message(actor, id, seq).await?;
        let Some(previous) = current.body.clone() else {
            return Err(DomainError::Conflict(
                "a deleted message cannot be edited".into(),
            ));
        };
        if previous == body {
            return Ok(current.into());
        }
        let now = crate::clock::now();
        let txn = self.db.begin().await?;
        keep_revision(&txn, &current, previous, now).await?;
        message::Entity::update_many()
            .col_expr(message::Column::Body, Expr::value(body))
            .col_expr(message::Column::EditedAt, Expr::value(now))
            .filter(message::Column::ConversationId.eq(id))
            .filter(message::Column::Seq.eq(seq))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        let message: Message = self.own_message(actor, id, seq).await?.into();
        let audience = self.members_of(id).await?;
        self.hub
            .publish(
                audience,
                Event::MessageEdited {
                    message: message.clone(),
                },
            )
            .await;
        Ok(message)
    }

    /// Turns the caller's own message into a tombstone (seq, sender and times stay;
    /// the body is kept as a revision for audit, never shown). Deleting twice is fine.
    pub async fn delete(&self, actor: &Actor, id: Uuid, seq: i64) -> Result<(), DomainError> {
        let current = self.own_message(actor, id, seq).await?;
        let Some(previous) = current.body.clone() else {
            return Ok(());
        };
        let now = crate::clock::now();
        let txn = self.db.begin().await?;
        keep_revision(&txn, &current, previous, now).await?;
        message::Entity::update_many()
            .col_expr(message::Column::Body, Expr::value(Option::<String>::None))
            .col_expr(message::Column::DeletedAt, Expr::value(now))
            .filter(message::Column::ConversationId.eq(id))
            .filter(message::Column::Seq.eq(seq))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        let audience = self.members_of(id).await?;
        self.hub
            .publish(
                audience,
                Event::MessageDeleted {
                    conversation_id: id,
                    seq,
                },
            )
            .await;
        Ok(())
    }

    async fn own_message(
        &self,
        actor: &Actor,
        id: Uuid,
        seq: i64,
    ) -> Result<message::Model, DomainError> {
        self.member_access(actor, id).await?;
        let row = message::Entity::find_by_id((id, seq))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound { entity: "message" })?;
        if row.sender_id != actor.account_id {
            return Err(DomainError::Forbidden {
                action: "change another member's message",
            });
        }
        Ok(row)
    }

    /// A window of history, ascending by seq, with exact has-older/has-newer flags.
    /// Three statements (conversation, membership, the seq range) at any depth.
    pub async fn window(
        &self,
        actor: &Actor,
        id: Uuid,
        request: WindowRequest,
    ) -> Result<MessageWindow, DomainError> {
        let (conversation, _) = self.member_access(actor, id).await?;
        let last_seq = conversation.last_seq;
        if let Anchor::Around { seq, .. } = request.anchor
            && seq > last_seq
        {
            return Err(DomainError::NotFound { entity: "message" });
        }
        let (lo, hi) = request.range(last_seq);
        let items = if lo <= hi {
            message::Entity::find()
                .filter(message::Column::ConversationId.eq(id))
                .filter(message::Column::Seq.gte(lo))
                .filter(message::Column::Seq.lte(hi))
                .order_by_asc(message::Column::Seq)
                .limit((hi - lo + 1) as u64)
                .all(&self.db)
                .await?
                .into_iter()
                .map(Message::from)
                .collect()
        } else {
            Vec::new()
        };
        let (has_older, has_newer) = flags(lo, hi, last_seq);
        Ok(MessageWindow {
            items,
            has_older,
            has_newer,
        })
    }

    /// History as a cursor-paged list (the GraphQL connection): forward from the
    /// oldest message or a cursor, backward from the newest or a cursor, with exact
    /// flags on both sides.
    pub async fn messages_page(
        &self,
        actor: &Actor,
        id: Uuid,
        page: PageRequest,
    ) -> Result<Page<Message>, DomainError> {
        let conversation = id.to_string();
        let scope = crate::cursor::scope(&[Some("messages"), Some(&conversation)]);
        let seq: Option<i64> = page.position(&self.cursors, &scope)?;
        let limit = page.limit as i64;
        let anchor = match (page.direction, seq) {
            (Direction::Forward, seq) => Anchor::After(seq.unwrap_or(0)),
            (Direction::Backward, Some(seq)) => Anchor::Before(seq),
            (Direction::Backward, None) => Anchor::Latest,
        };
        let window = self
            .window(actor, id, WindowRequest { limit, anchor })
            .await?;
        Ok(Page::new(
            &page,
            window.items,
            window.has_newer,
            window.has_older,
            |m| self.cursors.seal(&scope, &m.seq),
        ))
    }
}

async fn keep_revision(
    txn: &impl sea_orm::ConnectionTrait,
    current: &message::Model,
    body: String,
    at: chrono::DateTime<Utc>,
) -> Result<(), DomainError> {
    let revisions = revision::Entity::find()
        .filter(revision::Column::ConversationId.eq(current.conversation_id))
        .filter(revision::Column::Seq.eq(current.seq))
        .count(txn)
        .await?;
    revision::Entity::insert(revision::ActiveModel {
        conversation_id: Set(current.conversation_id),
        seq: Set(current.seq),
        revision: Set(revisions as i32 + 1),
        body: Set(body),
        replaced_at: Set(at),
    })
    .exec_without_returning(txn)
    .await
    .map_err(|e| DomainError::on_duplicate(e, "the message changed meanwhile; try again"))?;
    Ok(())
}

/// Most messages one replay returns per conversation.
const REPLAY_LIMIT: u64 = 500;

impl ChatService {
    /// Refuses unless the caller is a member of conversation `id`.
    pub async fn require_member(&self, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
        self.member_access(actor, id).await.map(drop)
    }

    /// Messages a reconnecting client missed since message `seq` of conversation `id`
    /// (its last event): the rest of that conversation, and what arrived since then in
    /// the caller's other conversations; each conversation in seq order, at most
    /// `REPLAY_LIMIT` per conversation. Clients dedupe by `(conversation_id, seq)`.
    pub async fn replay(
        &self,
        actor: &Actor,
        id: Uuid,
        seq: i64,
    ) -> Result<Vec<Message>, DomainError> {
        self.member_access(actor, id).await?;
        let Some(anchor) = message::Entity::find_by_id((id, seq)).one(&self.db).await? else {
            return Ok(Vec::new());
        };
        let mut replayed: Vec<Message> = message::Entity::find()
            .filter(message::Column::ConversationId.eq(id))
            .filter(message::Column::Seq.gt(seq))
            .order_by_asc(message::Column::Seq)
            .limit(REPLAY_LIMIT)
            .all(&self.db)
            .await?
            .into_iter()
            .map(Message::from)
            .collect();
        let active: Vec<Uuid> = member::Entity::find()
            .select_only()
            .column(member::Column::ConversationId)
            .filter(member::Column::AccountId.eq(actor.account_id))
            .filter(member::Column::LastActivityAt.gte(anchor.created_at))
            .filter(member::Column::ConversationId.ne(id))
            .into_tuple()
            .all(&self.db)
            .await?;
        for other in active {
            // Newest first through the key, so a long history is never scanned.
            let mut recent: Vec<Message> = message::Entity::find()
                .filter(message::Column::ConversationId.eq(other))
                .order_by_desc(message::Column::Seq)
                .limit(REPLAY_LIMIT)
                .all(&self.db)
                .await?
                .into_iter()
                .filter(|m| m.created_at >= anchor.created_at)
                .map(Message::from)
                .collect();
            recent.reverse();
            replayed.extend(recent);
        }
        Ok(replayed)
    }
}
