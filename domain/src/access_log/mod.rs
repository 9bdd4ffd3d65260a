//! The access log (NEN 7513): every read of a client's data by anyone other than that
//! client, written before the data leaves the server. One rule, here, decides what is
//! logged; the doors only say which door they are (on the `Actor`).
//!
//! Repeated reads of one resource by one actor through one door, for one purpose,
//! share an entry for `coalesce` (`PORTAL_ACCESS_LOG_COALESCE_SECS`): the first read
//! writes it, durably, before answering (a read whose entry cannot be written fails
//! with `unavailable`: fail closed); later ones in the window are counted in memory
//! and written to the entry's `last_at` and `count` every few seconds. A crash loses
//! at most those seconds of counts, never an entry. Nothing else ever changes an
//! entry.

mod entity;
mod reading;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub use reading::{AccessEntry, AccessFilter};

use crate::DomainError;
use crate::actor::{Actor, Door};
use crate::cursor::CursorKey;
use crate::database::Db;

/// Why data was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// By a member of the client's conversation: their care team.
    Care,
    /// By support staff or an admin, through the support tools.
    Support,
    /// In an export of the client's data.
    Export,
    /// In erasing the client's data.
    Erasure,
}

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    Conversation(Uuid),
    Account(Uuid),
    Export(Uuid),
}

/// One read of one client's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Read {
    pub client: Uuid,
    pub resource: Resource,
    pub purpose: Purpose,
}

/// How often counts of coalesced reads are written.
const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// Open windows kept before closed ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// Who read what, through which door, for which purpose: one entry's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    actor: Uuid,
    read: Read,
    door: Door,
}

/// An entry whose window is still open on this node.
#[derive(Debug, Clone, Copy)]
struct Open {
    id: Uuid,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    count: i64,
    written_count: i64,
}

/// Writes and reads the access log.
#[derive(Debug, Clone)]
pub struct AccessLog {
    db: Db,
    cursors: CursorKey,
    coalesce: chrono::Duration,
    open: Arc<Mutex<HashMap<Key, Open>>>,
}

impl AccessLog {
    pub fn new(db: Db, cursors: CursorKey, coalesce: Duration) -> Self {
        Self {
            db,
            cursors,
            coalesce: chrono::Duration::from_std(coalesce).unwrap_or(chrono::Duration::MAX),
            open: Arc::default(),
        }
    }

    /// Records that `actor` read `reads`, before the data is answered. Reads of a
    /// client's own data are not logged. An error means the data must not be sent.
    pub async fn record(
        &self,
        actor: &Actor,
        reads: impl IntoIterator<Item = Read>,
    ) -> Result<(), DomainError> {
        let now = crate::clock::now();
        let mut new = Vec::new();
        {
            let mut open = self.lock();
            for read in reads {
                if read.client == actor.account_id {
                    continue;
                }
                let key = Key {
                    actor: actor.account_id,
                    read,
                    door: actor.door,
                };
                match open.get_mut(&key) {
                    Some(entry) if now - entry.first_at < self.coalesce => {
                        entry.last_at = now;
                        entry.count += 1;
                    }
                    _ => new.push(key),
                }
            }
        }
        new.sort_unstable();
        new.dedup();
        if new.is_empty() {
            return Ok(());
        }
        let rows: Vec<(Key, Uuid)> = new.into_iter().map(|key| (key, Uuid::now_v7())).collect();
        let models = rows.iter().map(|(key, id)| entity::ActiveModel {
            id: Set(*id),
            client_id: Set(key.read.client),
            actor_id: Set(actor.account_id),
            actor_role: Set(actor.role.as_str().to_owned()),
            resource_kind: Set(key.read.resource_kind().to_owned()),
            resource_id: Set(key.read.resource_id()),
            purpose: Set(key.read.purpose.as_str().to_owned()),
            door: Set(key.door.as_str().to_owned()),
            request_id: Set(actor.request_id.clone()),
            first_at: Set(now),
            last_at: Set(now),
            count: Set(1),
        });
        if let Err(err) = entity::Entity::insert_many(models)
            .exec_without_returning(&self.db)
            .await
        {
            // Fail closed: without its entry, the read does not happen.
            tracing::error!(error = %err, "the access log could not be written; the read is refused");
            return Err(DomainError::Unavailable);
        }
        let mut open = self.lock();
        if open.len() > PRUNE_ABOVE {
            let coalesce = self.coalesce;
            open.retain(|_, entry| {
                now - entry.first_at < coalesce || entry.count != entry.written_count
            });
        }
        for (key, id) in rows {
            open.insert(
                key,
                Open {
                    id,
                    first_at: now,
                    last_at: now,
                    count: 1,
                    written_count: 1,
                },
            );
        }
        Ok(())
    }

    /// Writes the counts of coalesced reads every few seconds until `stop`, and once
    /// more then.
    pub async fn flush_every(self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let stopping = tokio::select! {
                () = tokio::time::sleep(FLUSH_EVERY) => false,
                () = &mut stop => true,
            };
            if let Err(err) = self.flush().await {
                tracing::warn!(error = %err, "access log counts could not be written; retrying");
            }
            if stopping {
                return;
            }
        }
    }

    /// Writes the counts read since the last flush.
    pub async fn flush(&self) -> Result<(), DomainError> {
        let pending: Vec<(Key, Open)> = self
            .lock()
            .iter()
            .filter(|(_, entry)| entry.count != entry.written_count)
            .map(|(key, entry)| (*key, *entry))
            .collect();
        for (key, entry) in pending {
            entity::Entity::update_many()
                .col_expr(entity::Column::LastAt, Expr::value(entry.last_at))
                .col_expr(entity::Column::Count, Expr::value(entry.count))
                .filter(entity::Column::Id.eq(entry.id))
                .exec(&self.db)
                .await?;
            if let Some(open) = self.lock().get_mut(&key) {
                open.written_count = open.written_count.max(entry.count);
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Open>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Read {
    fn resource_kind(&self) -> &'static str {
        match self.resource {
            Resource::Conversation(_) => "conversation",
            Resource::Account(_) => "account",
            Resource::Export(_) => "export",
        }
    }

    fn resource_id(&self) -> Uuid {
        match self.resource {
            Resource::Conversation(id) | Resource::Account(id) | Resource::Export(id) => id,
        }
    }
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Care => "care",
            Self::Support => "support",
            Self::Export => "export",
            Self::Erasure => "erasure",
        }
    }
}
