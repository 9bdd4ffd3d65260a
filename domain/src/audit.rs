//! The audit log: every support and admin action, with who did it, to what, when and
//! in which request. Entries are written in the same transaction as the action.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::DomainError;
use crate::actor::Actor;
use crate::cursor::CursorKey;
use crate::database::Db;
use crate::page::{Keyset, LIST_LIMITS, Page, PageArgs, PageLimits, Pager, Position};

pub mod entry {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_entries")]
    pub struct Model {
        /// UUID v7: time-ordered, so it alone keys pages.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub actor_id: Uuid,
        pub action: String,
        pub target_type: String,
        pub target_id: Uuid,
        pub request_id: Option<String>,
        pub created_at: DateTimeUtc,
        /// Why, when the action needs one given (erasure, legal hold).
        pub reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub actor_id: Uuid,
    pub action: String,
    pub target_type: String,
    pub target_id: Uuid,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Why, when the action needs one given (erasure, legal hold).
    pub reason: Option<String>,
}

/// Records `actor` doing `action` to the `target_type` with `target_id`, on `conn`
/// (pass the action's transaction, so that both land or neither does).
pub(crate) async fn record(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    target_type: &str,
    target_id: Uuid,
) -> Result<(), DomainError> {
    record_because(conn, actor, action, target_type, target_id, None).await
}

/// [`record`] with the reason the actor gave.
pub(crate) async fn record_because(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    target_type: &str,
    target_id: Uuid,
    reason: Option<&str>,
) -> Result<(), DomainError> {
    entry::Entity::insert(entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_id: Set(actor.account_id),
        action: Set(action.to_owned()),
        target_type: Set(target_type.to_owned()),
        target_id: Set(target_id),
        request_id: Set(actor.request_id.clone()),
        created_at: Set(crate::clock::now()),
        reason: Set(reason.map(str::to_owned)),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Reads the audit log.
#[derive(Debug, Clone)]
pub struct AuditService {
    db: Db,
    cursors: CursorKey,
}

const SCOPE: &str = "audit|newest";

/// An entry's id alone orders the log.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
struct EntryPosition(Uuid);

impl Position for EntryPosition {
    fn key(&self) -> (sea_orm::Value, sea_orm::Value) {
        (self.0.into(), self.0.into())
    }
}

impl AuditService {
    /// Page sizes of the audit log.
    pub const PAGE: PageLimits = LIST_LIMITS;

    pub fn new(db: Db, cursors: CursorKey) -> Self {
        Self { db, cursors }
    }

    /// Entries newest first; admins only.
    pub async fn list(
        &self,
        actor: &Actor,
        page: PageArgs,
    ) -> Result<Page<AuditEntry>, DomainError> {
        actor.require_admin("read the audit log")?;
        let pager = Pager {
            cursors: &self.cursors,
            scope: SCOPE,
            limits: Self::PAGE,
        };
        let keys = Keyset {
            sort: entry::Column::Id,
            id: entry::Column::Id,
            ascending: false,
        };
        let page = pager
            .read(
                &self.db,
                entry::Entity::find(),
                keys,
                page,
                |row: &entry::Model| EntryPosition(row.id),
            )
            .await?;
        Ok(page.map(AuditEntry::from))
    }

    /// One entry; admins only.
    pub async fn get(&self, actor: &Actor, id: Uuid) -> Result<AuditEntry, DomainError> {
        actor.require_admin("read the audit log")?;
        entry::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(AuditEntry::from)
            .ok_or(DomainError::NotFound {
                entity: "audit entry",
            })
    }
}

impl From<entry::Model> for AuditEntry {
    fn from(row: entry::Model) -> Self {
        Self {
            id: row.id,
            actor_id: row.actor_id,
            action: row.action,
            target_type: row.target_type,
            target_id: row.target_id,
            request_id: row.request_id,
            created_at: row.created_at,
            reason: row.reason,
        }
    }
}
