//! Writing the feed: a change is recorded for everyone who must learn of it, in the
//! change's own transaction, as rows waiting for their positions. The sequencer gives
//! them out right after the commit (see `sequence`).

use std::collections::HashMap;

use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, DbBackend};
use uuid::Uuid;

use super::entity::pending;
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

/// A change recorded for its readers, waiting for their positions: the rows it
/// wrote to `sync_pending`.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    /// The readers, sorted.
    pub(super) audience: Vec<Uuid>,
    pub(super) pending: Vec<i64>,
}

/// Records `entry` for each of `audience`, inside `txn`: one waiting row per reader,
/// which the writer hands to the sequencer after the commit. Nothing here locks a row
/// that another writer needs, so a busy reader's changes commit side by side.
pub(crate) async fn record(
    txn: &impl ConnectionTrait,
    audience: &[Uuid],
    entry: Entry,
) -> Result<Recorded, DomainError> {
    let mut accounts = audience.to_vec();
    accounts.sort_unstable();
    accounts.dedup();
    let (kind, conversation_id, seq, subject_id) = entry.columns();
    let recorded_at = crate::clock::now();
    let insert = |accounts: &[Uuid]| {
        let mut insert = Query::insert();
        insert.into_table(pending::Entity).columns([
            pending::Column::AccountId,
            pending::Column::Kind,
            pending::Column::ConversationId,
            pending::Column::Seq,
            pending::Column::SubjectId,
            pending::Column::RecordedAt,
        ]);
        for account in accounts {
            insert.values_panic([
                (*account).into(),
                kind.into(),
                conversation_id.into(),
                seq.into(),
                subject_id.into(),
                recorded_at.into(),
            ]);
        }
        insert
    };
    let mut pending = Vec::with_capacity(accounts.len());
    if txn.get_database_backend() == DbBackend::MySql {
        // MariaDB returns nothing from an insert but the id it took: one row each.
        for account in &accounts {
            let done = txn.execute(&insert(std::slice::from_ref(account))).await?;
            pending.push(done.last_insert_id() as i64);
        }
    } else if !accounts.is_empty() {
        let mut insert = insert(&accounts);
        insert.returning_col(pending::Column::Id);
        for row in txn.query_all(&insert).await? {
            pending.push(row.try_get("", "id")?);
        }
    }
    Ok(Recorded {
        audience: accounts,
        pending,
    })
}
