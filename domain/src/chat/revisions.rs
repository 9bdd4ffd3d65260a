//! Editing and deleting one's own messages: an edit keeps the earlier body as a
//! revision, a deletion leaves a tombstone in its seq slot.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::entity::{message, revision};
use super::{ChatService, Message};
use crate::DomainError;
use crate::actor::Actor;
use crate::events::Event;

use super::sending::check_body;

impl ChatService {
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
        let recorded = self.record_message(&txn, id, seq).await?;
        txn.commit().await?;
        let positions = self.sequencer.positions(recorded).await;
        let message: Message = self.own_message(actor, id, seq).await?.into();
        if let Some(live) = message.live() {
            let event = Event::MessageEdited { message: live };
            self.hub.publish_change(event, positions).await;
        }
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
        let recorded = self.record_message(&txn, id, seq).await?;
        txn.commit().await?;
        let positions = self.sequencer.positions(recorded).await;
        let event = Event::MessageDeleted {
            conversation_id: id,
            seq,
        };
        self.hub.publish_change(event, positions).await;
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
