//! Writing the feed: a change is recorded for everyone who must learn of it, in the
//! change's own transaction. Each account's position is bumped under the lock of its
//! head row, so an account's positions are given out in commit order: a reader that
//! has seen position `n` never later finds a change below `n`.

use std::collections::HashMap;

use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entity::{feed, head};
use crate::DomainError;

/// A change, as the feed records it. What it changed to is read when it is synced, so
/// a reader always applies the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A message was created, edited or deleted.
    Message { conversation_id: Uuid, seq: i64 },
    /// `account_id`'s read marker moved to `seq`.
    ReadMarker {
        conversation_id: Uuid,
        account_id: Uuid,
        seq: i64,
    },
    /// The conversation was started with the reader, or its membership changed.
    Conversation { conversation_id: Uuid },
    /// The reader muted or unmuted the conversation.
    Muted { conversation_id: Uuid, muted: bool },
}

impl Entry {
    fn columns(self) -> (&'static str, Uuid, Option<i64>, Option<Uuid>) {
        match self {
            Self::Message {
                conversation_id,
                seq,
            } => ("message", conversation_id, Some(seq), None),
            Self::ReadMarker {
                conversation_id,
                account_id,
                seq,
            } => ("read_marker", conversation_id, Some(seq), Some(account_id)),
            Self::Conversation { conversation_id } => ("conversation", conversation_id, None, None),
            Self::Muted {
                conversation_id,
                muted,
            } => (
                if muted { "muted" } else { "unmuted" },
                conversation_id,
                None,
                None,
            ),
        }
    }
}

/// Each reader's position of one change.
pub type Positions = HashMap<Uuid, i64>;

/// Records `entry` in the feed of each of `audience`, inside `txn`, and answers the
/// position it took in each: four statements for any number of readers.
pub(crate) async fn record(
    txn: &impl ConnectionTrait,
    audience: &[Uuid],
    entry: Entry,
) -> Result<Positions, DomainError> {
    let mut accounts = audience.to_vec();
    accounts.sort_unstable();
    accounts.dedup();
    if accounts.is_empty() {
        return Ok(Positions::new());
    }
    let mut heads = Query::insert();
    heads
        .into_table(head::Entity)
        .columns([head::Column::AccountId, head::Column::Position])
        .on_conflict(
            OnConflict::column(head::Column::AccountId)
                .do_nothing_on([head::Column::AccountId])
                .to_owned(),
        );
    for account in &accounts {
        heads.values_panic([(*account).into(), 0i64.into()]);
    }
    txn.execute(&heads).await?;
    let mut current = head::Entity::find()
        .filter(head::Column::AccountId.is_in(accounts.clone()))
        .order_by_asc(head::Column::AccountId);
    if txn.get_database_backend() != DbBackend::Sqlite {
        // Lock the heads in one order, so that two changes reaching the same readers
        // wait for each other instead of deadlocking. SQLite has one writer.
        current = current.lock_exclusive();
    }
    let positions: Positions = current
        .all(txn)
        .await?
        .into_iter()
        .map(|head| (head.account_id, head.position + 1))
        .collect();
    head::Entity::update_many()
        .col_expr(
            head::Column::Position,
            Expr::col(head::Column::Position).add(1),
        )
        .filter(head::Column::AccountId.is_in(accounts))
        .exec(txn)
        .await?;
    let (kind, conversation_id, seq, subject_id) = entry.columns();
    let recorded_at = crate::clock::now();
    let rows = positions
        .iter()
        .map(|(account, position)| feed::ActiveModel {
            account_id: Set(*account),
            position: Set(*position),
            kind: Set(kind.to_owned()),
            conversation_id: Set(conversation_id),
            seq: Set(seq),
            subject_id: Set(subject_id),
            recorded_at: Set(recorded_at),
        });
    feed::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(positions)
}
