//! Sending: idempotent per sender and `client_msg_id`, the seq assigned in the
//! insert's own transaction, the event published after the commit.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entity::{conversation, member, message, revision};
use super::{ChatService, Message, Sent};
use crate::DomainError;
use crate::actor::Actor;
use crate::events::Event;
use crate::limits::{CLIENT_MSG_ID, MESSAGE_BODY};
use crate::sync::Positions;
use crate::text::{self, Lines};

pub(super) fn check_body(body: &str) -> Result<(), DomainError> {
    text::field("body", body, Lines::Many)?;
    if body.trim().is_empty() {
        return Err(DomainError::Validation("body: must not be empty".into()));
    }
    if body.chars().count() > MESSAGE_BODY.max {
        return Err(DomainError::Validation(format!(
            "body: must be at most {} characters",
            MESSAGE_BODY.max
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
        let valid_key = CLIENT_MSG_ID.allows(client_msg_id.len())
            && client_msg_id.bytes().all(|b| b.is_ascii_graphic());
        if !valid_key {
            return Err(DomainError::Validation(format!(
                "client_msg_id: {} to {} printable ASCII characters",
                CLIENT_MSG_ID.min, CLIENT_MSG_ID.max
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
            Ok((message, positions)) => {
                if let Some(live) = message.live() {
                    let event = Event::MessageCreated { message: live };
                    self.hub.publish_change(event, positions).await;
                }
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

    /// Takes the next seq and stores the message in one transaction.
    async fn insert_message(
        &self,
        actor: &Actor,
        id: Uuid,
        client_msg_id: &str,
        body: String,
    ) -> Result<(Message, Positions), DomainError> {
        let now = crate::clock::now();
        let txn = self.db.begin().await?;
        let seq = take_seq(&txn, id, now).await?;
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
        // Every member's activity moves; the sender has also read what they sent.
        member::Entity::update_many()
            .col_expr(member::Column::LastActivityAt, Expr::value(now))
            .col_expr(
                member::Column::LastReadSeq,
                Expr::case(member::Column::AccountId.eq(actor.account_id), seq)
                    .finally(Expr::col(member::Column::LastReadSeq))
                    .into(),
            )
            .filter(member::Column::ConversationId.eq(id))
            .exec(&txn)
            .await?;
        self.outbox
            .enqueue(&txn, id, seq, actor.account_id, now)
            .await?;
        let recorded = self.record_message(&txn, id, seq).await?;
        txn.commit().await?;
        let positions = self.sequencer.positions(recorded).await;
        let message = Message {
            conversation_id: id,
            seq,
            sender_id: actor.account_id,
            client_msg_id: client_msg_id.to_owned(),
            body: Some(body),
            created_at: now,
            edited_at: None,
            deleted: false,
        };
        Ok((message, positions))
    }
}

/// Bumps conversation `id`'s counter and answers the new seq. The UPDATE comes first
/// in its transaction: it takes the row lock on PostgreSQL and MariaDB and the write
/// lock on SQLite before anything is read, so seq order is commit order and no two
/// sends share a seq. One statement where UPDATE can return (PostgreSQL, SQLite).
async fn take_seq(
    txn: &impl ConnectionTrait,
    id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, DomainError> {
    let mut bump = Query::update();
    bump.table(conversation::Entity)
        .value(
            conversation::Column::LastSeq,
            Expr::col(conversation::Column::LastSeq).add(1),
        )
        .value(conversation::Column::LastActivityAt, now)
        .and_where(conversation::Column::Id.eq(id));
    let missing = DomainError::NotFound {
        entity: "conversation",
    };
    if matches!(
        txn.get_database_backend(),
        DbBackend::Postgres | DbBackend::Sqlite
    ) {
        bump.returning_col(conversation::Column::LastSeq);
        let row = txn.query_one(&bump).await?.ok_or(missing)?;
        return Ok(row.try_get("", "last_seq")?);
    }
    txn.execute(&bump).await?;
    conversation::Entity::find_by_id(id)
        .select_only()
        .column(conversation::Column::LastSeq)
        .into_tuple()
        .one(txn)
        .await?
        .ok_or(missing)
}
