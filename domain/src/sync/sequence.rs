//! A sequencing round: the waiting changes of some accounts move into their feeds,
//! each account's next positions given out under the lock of its head row, in the
//! order the changes were recorded. The round's commit makes the positions visible,
//! and rounds that share an account commit one after the other, so an account's
//! positions become visible in order: a reader that has seen position `n` never later
//! finds a change below `n`. A change recorded after another committed has the larger
//! id, so it also gets the larger position.

use std::collections::HashMap;

use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, Statement,
};
use uuid::Uuid;

use super::entity::{feed, head, pending};
use crate::DomainError;
use crate::database::Db;

/// Where a round put one waiting change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Moved {
    pub pending: i64,
    pub account_id: Uuid,
    pub position: i64,
}

/// Moves every change waiting for `accounts` into their feeds. Rows that a concurrent
/// round is moving are left to it; rows committed after this round began wait for
/// the next one.
pub(crate) async fn sequence(db: &Db, accounts: &[Uuid]) -> Result<Vec<Moved>, DomainError> {
    let mut accounts = accounts.to_vec();
    accounts.sort_unstable();
    accounts.dedup();
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    if db.get_database_backend() == DbBackend::Postgres {
        return in_one_statement(db, &accounts).await;
    }
    let txn = db.begin().await?;
    let rows = take(&txn, &accounts).await?;
    let mut counts: Vec<(Uuid, i64)> = Vec::new();
    for row in &rows {
        match counts.last_mut() {
            Some((account, n)) if *account == row.account_id => *n += 1,
            _ => counts.push((row.account_id, 1)),
        }
    }
    if counts.is_empty() {
        return Ok(Vec::new());
    }
    let heads = bump_heads(&txn, &counts).await?;
    let mut next: HashMap<Uuid, i64> = counts
        .iter()
        .map(|(account, n)| (*account, heads[account] - n))
        .collect();
    let mut moved = Vec::with_capacity(rows.len());
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let position = next.get_mut(&row.account_id).expect("counted above");
        *position += 1;
        moved.push(Moved {
            pending: row.id,
            account_id: row.account_id,
            position: *position,
        });
        entries.push(feed::ActiveModel {
            account_id: Set(row.account_id),
            position: Set(*position),
            kind: Set(row.kind),
            conversation_id: Set(row.conversation_id),
            seq: Set(row.seq),
            subject_id: Set(row.subject_id),
            recorded_at: Set(row.recorded_at),
        });
    }
    feed::Entity::insert_many(entries)
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(moved)
}

/// Deletes the waiting rows of `accounts` and answers them, by account, then id.
async fn take(
    txn: &impl ConnectionTrait,
    accounts: &[Uuid],
) -> Result<Vec<pending::Model>, DomainError> {
    let backend = txn.get_database_backend();
    let returning = "RETURNING id, account_id, kind, conversation_id, seq, subject_id, recorded_at";
    let marks = vec!["?"; accounts.len()].join(", ");
    let values: Vec<sea_orm::Value> = accounts.iter().map(|a| (*a).into()).collect();
    let statement = if backend == DbBackend::Sqlite {
        // The delete comes first: it takes SQLite's write lock before anything is read.
        let sql = format!("DELETE FROM sync_pending WHERE account_id IN ({marks}) {returning}");
        Statement::from_sql_and_values(backend, sql, values)
    } else {
        // MariaDB: found without locking, then deleted by primary key, so the round
        // holds no gap lock that would keep writers from recording meanwhile. What
        // the delete returns is what this round took; a concurrent round took the rest.
        let ids: Vec<i64> = pending::Entity::find()
            .select_only()
            .column(pending::Column::Id)
            .filter(pending::Column::AccountId.is_in(accounts.to_vec()))
            .into_tuple()
            .all(txn)
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let sql = format!("DELETE FROM sync_pending WHERE id IN ({marks}) {returning}");
        Statement::from_sql_and_values(backend, sql, ids.into_iter().map(Into::into))
    };
    let mut rows = pending::Model::find_by_statement(statement)
        .all(txn)
        .await?;
    rows.sort_unstable_by_key(|row| (row.account_id, row.id));
    Ok(rows)
}

/// Adds `n` to each account's head (starting at 0), in account order so that rounds
/// sharing accounts wait for each other instead of deadlocking; the new heads.
async fn bump_heads(
    txn: &impl ConnectionTrait,
    counts: &[(Uuid, i64)],
) -> Result<HashMap<Uuid, i64>, DomainError> {
    let backend = txn.get_database_backend();
    let added = match backend {
        DbBackend::MySql => "VALUES(position)",
        _ => "excluded.position",
    };
    let mut bump = Query::insert();
    bump.into_table(head::Entity)
        .columns([head::Column::AccountId, head::Column::Position])
        .on_conflict(
            OnConflict::column(head::Column::AccountId)
                .value(
                    head::Column::Position,
                    Expr::col((head::Entity, head::Column::Position)).add(Expr::cust(added)),
                )
                .to_owned(),
        );
    for (account, n) in counts {
        bump.values_panic([(*account).into(), (*n).into()]);
    }
    let accounts: Vec<Uuid> = counts.iter().map(|(account, _)| *account).collect();
    let heads: Vec<(Uuid, i64)> = if backend == DbBackend::Sqlite {
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
            .filter(head::Column::AccountId.is_in(accounts))
            .all(txn)
            .await?
            .into_iter()
            .map(|head| (head.account_id, head.position))
            .collect()
    };
    Ok(heads.into_iter().collect())
}

/// PostgreSQL: take, count, bump and insert in one statement. The delete runs to the
/// end before the heads are bumped (the count needs all of it), so a round never
/// holds a head while it waits for another round's rows.
async fn in_one_statement(db: &Db, accounts: &[Uuid]) -> Result<Vec<Moved>, DomainError> {
    let marks: Vec<String> = (1..=accounts.len())
        .map(|n| format!("${n}::uuid"))
        .collect();
    let sql = format!(
        "WITH moved AS (\
           DELETE FROM sync_pending WHERE account_id IN ({}) \
           RETURNING id, account_id, kind, conversation_id, seq, subject_id, recorded_at), \
         counted AS (SELECT account_id, count(*) AS n FROM moved GROUP BY account_id), \
         bumped AS (\
           INSERT INTO sync_heads (account_id, position) \
           SELECT account_id, n FROM counted ORDER BY account_id \
           ON CONFLICT (account_id) DO UPDATE SET position = sync_heads.position + excluded.position \
           RETURNING account_id, position), \
         placed AS (\
           SELECT m.*, b.position - c.n + row_number() OVER (PARTITION BY m.account_id ORDER BY m.id) AS position \
           FROM moved m JOIN counted c USING (account_id) JOIN bumped b USING (account_id)), \
         inserted AS (\
           INSERT INTO sync_feed (account_id, position, kind, conversation_id, seq, subject_id, recorded_at) \
           SELECT account_id, position, kind, conversation_id, seq, subject_id, recorded_at FROM placed) \
         SELECT id, account_id, position FROM placed",
        marks.join(", ")
    );
    let values: Vec<sea_orm::Value> = accounts.iter().map(|a| (*a).into()).collect();
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    let rows = db.query_all_raw(statement).await?;
    rows.iter()
        .map(|row| {
            Ok(Moved {
                pending: row.try_get("", "id")?,
                account_id: row.try_get("", "account_id")?,
                position: row.try_get("", "position")?,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(Into::into)
}
