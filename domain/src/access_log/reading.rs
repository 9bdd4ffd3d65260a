//! Reading the access log: a client's own view (who read their data, when, what and
//! why), and the admins' search. Newest first, keyset-paged by the entry's id.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entity::{self, Column};
use super::{AccessLog, Purpose};
use crate::DomainError;
use crate::accounts::account;
use crate::actor::{Actor, Role};
use crate::page::{Keyset, LIST_LIMITS, Page, PageArgs, PageLimits, Pager, Position};

/// One entry as a reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    pub id: Uuid,
    pub client_id: Uuid,
    pub actor_id: Uuid,
    /// The reader's display name now (a pseudonym once they were erased).
    pub actor_name: String,
    pub actor_role: Role,
    /// `conversation`, `account` or `export`.
    pub resource_kind: String,
    pub resource_id: Uuid,
    pub purpose: Purpose,
    /// `rest`, `graphql`, `sse` or `websocket`.
    pub door: String,
    pub request_id: Option<String>,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Reads the entry stands for.
    pub count: i64,
}

/// What the admins' search selects; every part optional.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    pub client: Option<Uuid>,
    pub actor: Option<Uuid>,
    pub purpose: Option<Purpose>,
    /// Entries opened at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Entries opened at or before this instant.
    pub to: Option<DateTime<Utc>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
struct EntryPosition(Uuid);

impl Position for EntryPosition {
    fn key(&self) -> (sea_orm::Value, sea_orm::Value) {
        (self.0.into(), self.0.into())
    }
}

impl AccessLog {
    /// Page sizes of the access log.
    pub const PAGE: PageLimits = LIST_LIMITS;

    /// Who read the caller's data, newest first.
    pub async fn mine(
        &self,
        actor: &Actor,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        page: PageArgs,
    ) -> Result<Page<AccessEntry>, DomainError> {
        let filter = AccessFilter {
            client: Some(actor.account_id),
            from,
            to,
            ..AccessFilter::default()
        };
        self.read(&filter, page).await
    }

    /// Entries that `filter` selects, newest first; admins only.
    pub async fn search(
        &self,
        actor: &Actor,
        filter: AccessFilter,
        page: PageArgs,
    ) -> Result<Page<AccessEntry>, DomainError> {
        actor.require_admin("read the access log")?;
        self.read(&filter, page).await
    }

    async fn read(
        &self,
        filter: &AccessFilter,
        page: PageArgs,
    ) -> Result<Page<AccessEntry>, DomainError> {
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err(DomainError::invalid("from", "must not be after `to`"));
        }
        let (client, actor) = (
            filter.client.map(|c| c.to_string()),
            filter.actor.map(|a| a.to_string()),
        );
        let (from, to) = (
            filter.from.map(|f| f.to_rfc3339()),
            filter.to.map(|t| t.to_rfc3339()),
        );
        let scope = crate::cursor::scope(&[
            Some("access_log"),
            client.as_deref(),
            actor.as_deref(),
            filter.purpose.map(Purpose::as_str),
            from.as_deref(),
            to.as_deref(),
        ]);
        let pager = Pager {
            cursors: &self.cursors,
            scope: &scope,
            limits: Self::PAGE,
        };
        let mut select = entity::Entity::find();
        if let Some(client) = filter.client {
            select = select.filter(Column::ClientId.eq(client));
        }
        if let Some(actor) = filter.actor {
            select = select.filter(Column::ActorId.eq(actor));
        }
        if let Some(purpose) = filter.purpose {
            select = select.filter(Column::Purpose.eq(purpose.as_str()));
        }
        if let Some(from) = filter.from {
            select = select.filter(Column::FirstAt.gte(from));
        }
        if let Some(to) = filter.to {
            select = select.filter(Column::FirstAt.lte(to));
        }
        let keys = Keyset {
            sort: Column::Id,
            id: Column::Id,
            ascending: false,
        };
        let page = pager
            .read(&self.db, select, keys, page, |row: &entity::Model| {
                EntryPosition(row.id)
            })
            .await?;
        let names = self.actor_names(&page.items).await?;
        page.try_map(|row| entry(row, &names))
    }

    /// Entries about `client` after the entry `after`, oldest first, at most `limit`:
    /// the walk of an export.
    pub(crate) async fn about(
        &self,
        client: Uuid,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<AccessEntry>, DomainError> {
        let mut select = entity::Entity::find().filter(Column::ClientId.eq(client));
        if let Some(after) = after {
            select = select.filter(Column::Id.gt(after));
        }
        let rows = select
            .order_by_asc(Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        let names = self.actor_names(&rows).await?;
        rows.into_iter().map(|row| entry(row, &names)).collect()
    }

    /// The display names of the readers of `rows`.
    async fn actor_names(
        &self,
        rows: &[entity::Model],
    ) -> Result<HashMap<Uuid, String>, DomainError> {
        let mut actors: Vec<Uuid> = rows.iter().map(|row| row.actor_id).collect();
        actors.sort_unstable();
        actors.dedup();
        Ok(account::Entity::find()
            .select_only()
            .column(account::Column::Id)
            .column(account::Column::DisplayName)
            .filter(account::Column::Id.is_in(actors))
            .into_tuple::<(Uuid, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect())
    }
}

fn entry(row: entity::Model, names: &HashMap<Uuid, String>) -> Result<AccessEntry, DomainError> {
    Ok(AccessEntry {
        actor_name: names.get(&row.actor_id).cloned().unwrap_or_default(),
        actor_role: Role::stored(&row.actor_role)?,
        purpose: Purpose::stored(&row.purpose)?,
        id: row.id,
        client_id: row.client_id,
        actor_id: row.actor_id,
        resource_kind: row.resource_kind,
        resource_id: row.resource_id,
        door: row.door,
        request_id: row.request_id,
        first_at: row.first_at,
        last_at: row.last_at,
        count: row.count,
    })
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Self; 4] = [Self::Care, Self::Support, Self::Export, Self::Erasure];

    /// Parses the wire spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == value)
    }

    fn stored(value: &str) -> Result<Self, DomainError> {
        Self::parse(value).ok_or_else(|| DomainError::corrupt("access_log.purpose", value))
    }
}
