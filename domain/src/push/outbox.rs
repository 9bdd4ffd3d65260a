//! The outbox: what must be pushed, written in the transaction that stores the
//! message, so that a crash between commit and delivery loses nothing and any node
//! can deliver it. One row per recipient and message; rows are deleted once done.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, QueryStatementBuilder as _};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::entity::{outbox, subscription};
use crate::DomainError;
use crate::chat::member;

/// Writes jobs for sent messages; `ChatService` holds one.
#[derive(Debug, Clone, Copy)]
pub struct Outbox {
    /// How long a recipient has to read a message before it is pushed.
    pub read_delay: Duration,
}

/// What is waiting, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxStats {
    pub pending: u64,
    /// When the oldest job's message was sent.
    pub oldest_sent_at: Option<DateTime<Utc>>,
}

impl Outbox {
    /// Owes a push of message `seq` in `conversation_id` to every member but the
    /// sender who has not muted the conversation and has a device. Run it on the
    /// message's transaction.
    pub(crate) async fn enqueue(
        &self,
        txn: &impl ConnectionTrait,
        conversation_id: Uuid,
        seq: i64,
        sender_id: Uuid,
        sent_at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        // A recipient who already waits for a push gets this message in the same one:
        // messages sent within the delay collapse, and the first one's clock runs. The
        // pending due time comes with each recipient, in the same statement.
        let pending = Query::select()
            .expr(outbox::Column::DueAt.min())
            .from(outbox::Entity)
            .and_where(
                Expr::col((outbox::Entity, outbox::Column::AccountId))
                    .equals((member::Entity, member::Column::AccountId)),
            )
            .and_where(Expr::col((outbox::Entity, outbox::Column::Attempts)).eq(0))
            .and_where(Expr::col((outbox::Entity, outbox::Column::DueAt)).gt(sent_at))
            .to_owned();
        let recipients: Vec<(Uuid, Option<DateTime<Utc>>)> = member::Entity::find()
            .select_only()
            .column(member::Column::AccountId)
            .expr(Expr::SubQuery(
                None,
                Box::new(pending.into_sub_query_statement()),
            ))
            .filter(member::Column::ConversationId.eq(conversation_id))
            .filter(member::Column::AccountId.ne(sender_id))
            .filter(member::Column::Muted.eq(false))
            .filter(
                member::Column::AccountId.in_subquery(
                    Query::select()
                        .column(subscription::Column::AccountId)
                        .from(subscription::Entity)
                        .to_owned(),
                ),
            )
            .into_tuple()
            .all(txn)
            .await?;
        if recipients.is_empty() {
            return Ok(());
        }
        let due_at = sent_at
            + chrono::Duration::from_std(self.read_delay).unwrap_or(chrono::Duration::zero());
        let rows = recipients
            .into_iter()
            .map(|(account_id, waiting)| outbox::ActiveModel {
                id: sea_orm::ActiveValue::Set(Uuid::now_v7()),
                account_id: sea_orm::ActiveValue::Set(account_id),
                conversation_id: sea_orm::ActiveValue::Set(conversation_id),
                seq: sea_orm::ActiveValue::Set(seq),
                subscription_id: sea_orm::ActiveValue::Set(None),
                sent_at: sea_orm::ActiveValue::Set(sent_at),
                due_at: sea_orm::ActiveValue::Set(waiting.unwrap_or(due_at)),
                attempts: sea_orm::ActiveValue::Set(0),
            });
        outbox::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
        Ok(())
    }
}

pub(super) async fn stats(db: &impl ConnectionTrait) -> Result<OutboxStats, DomainError> {
    let pending = outbox::Entity::find().count(db).await?;
    let oldest_sent_at: Option<DateTime<Utc>> = outbox::Entity::find()
        .select_only()
        .expr(outbox::Column::SentAt.min())
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten();
    Ok(OutboxStats {
        pending,
        oldest_sent_at,
    })
}
