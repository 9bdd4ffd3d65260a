//! Writing the feed: a change is recorded for everyone who must learn of it, in the
//! change's own transaction. Each account's position is bumped under the lock of its
//! head row, so an account's positions are given out in commit order: a reader that
//! has seen position `n` never later finds a change below `n`.

use std::collections::HashMap;

use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter};
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
/// position it took in each. Each head is bumped by an upsert whose rows come in
/// account order, so its row locks are taken in one order and two changes reaching
/// the same readers wait for each other instead of deadlocking. One statement on
/// PostgreSQL, two on SQLite, three on MariaDB, for any number of readers.
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
    let recorded_at = crate::clock::now();
    if txn.get_database_backend() == DbBackend::Postgres {
        return record_in_one_statement(txn, &accounts, entry, recorded_at).await;
    }
    let positions = bump_heads(txn, &accounts).await?;
    let (kind, conversation_id, seq, subject_id) = entry.columns();
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

/// Bumps (or starts at 1) the heads of `accounts`, sorted; their new positions.
async fn bump_heads(
    txn: &impl ConnectionTrait,
    accounts: &[Uuid],
) -> Result<Positions, DomainError> {
    let mut bump = Query::insert();
    bump.into_table(head::Entity)
        .columns([head::Column::AccountId, head::Column::Position])
        .on_conflict(
            OnConflict::column(head::Column::AccountId)
                .value(
                    head::Column::Position,
                    Expr::col((head::Entity, head::Column::Position)).add(1),
                )
                .to_owned(),
        );
    for account in accounts {
        bump.values_panic([(*account).into(), 1i64.into()]);
    }
    let heads: Vec<(Uuid, i64)> = if txn.get_database_backend() == DbBackend::Sqlite {
        bump.returning(
            Query::returning().columns([head::Column::AccountId, head::Column::Position]),
        );
        let rows = txn.query_all(&bump).await?;
        rows.iter()
            .map(|row| Ok((row.try_get("", "account_id")?, row.try_get("", "position")?)))
            .collect::<Result<_, sea_orm::DbErr>>()?
    } else {
        // MariaDB returns nothing from an upsert: read the heads back (this
        // transaction's own rows, locked by the upsert).
        txn.execute(&bump).await?;
        head::Entity::find()
            .filter(head::Column::AccountId.is_in(accounts.to_vec()))
            .all(txn)
            .await?
            .into_iter()
            .map(|head| (head.account_id, head.position))
            .collect()
    };
    Ok(heads.into_iter().collect())
}

/// PostgreSQL: the heads' upsert and the feed's insert in one statement.
async fn record_in_one_statement(
    txn: &impl ConnectionTrait,
    accounts: &[Uuid],
    entry: Entry,
    recorded_at: chrono::DateTime<chrono::Utc>,
) -> Result<Positions, DomainError> {
    let (kind, conversation_id, seq, subject_id) = entry.columns();
    let heads: Vec<String> = (1..=accounts.len())
        .map(|n| format!("(${n}::uuid, 1)"))
        .collect();
    let n = accounts.len();
    let sql = format!(
        "WITH bumped AS (\
           INSERT INTO sync_heads (account_id, position) VALUES {} \
           ON CONFLICT (account_id) DO UPDATE SET position = sync_heads.position + 1 \
           RETURNING account_id, position) \
         INSERT INTO sync_feed (account_id, position, kind, conversation_id, seq, subject_id, recorded_at) \
         SELECT account_id, position, ${}, ${}::uuid, ${}::bigint, ${}::uuid, ${}::timestamptz FROM bumped \
         RETURNING account_id, position",
        heads.join(", "),
        n + 1,
        n + 2,
        n + 3,
        n + 4,
        n + 5,
    );
    let mut values: Vec<sea_orm::Value> = accounts.iter().map(|a| (*a).into()).collect();
    values.extend([
        kind.into(),
        conversation_id.into(),
        seq.into(),
        subject_id.into(),
        recorded_at.into(),
    ]);
    let statement = sea_orm::Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    let rows = txn.query_all_raw(statement).await?;
    let positions = rows
        .iter()
        .map(|row| Ok((row.try_get("", "account_id")?, row.try_get("", "position")?)))
        .collect::<Result<Positions, sea_orm::DbErr>>()?;
    Ok(positions)
}
