//! What a client, or an admin, sees of the access log, in both doors.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Role;

/// Why data was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Enum)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "domain::access_log::Purpose")]
pub enum AccessPurpose {
    /// By a member of the client's conversation: their care team.
    Care,
    /// By support staff or an admin, through the support tools.
    Support,
    /// In an export of the client's data.
    Export,
    /// In erasing the client's data.
    Erasure,
}

/// Someone other than the client read the client's data: who, what, why, how, when.
/// Repeated reads of one resource by one reader within a window share an entry.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct AccessEntry {
    pub id: Uuid,
    /// Whose data was read.
    pub client_id: Uuid,
    pub actor_id: Uuid,
    /// The reader's display name.
    pub actor_name: String,
    pub actor_role: Role,
    /// `conversation`, `account` or `export`.
    pub resource_kind: String,
    pub resource_id: Uuid,
    pub purpose: AccessPurpose,
    /// `rest`, `graphql`, `sse` or `websocket`.
    pub door: String,
    pub request_id: Option<String>,
    /// The first read this entry stands for.
    pub first_at: DateTime<Utc>,
    /// The last read this entry stands for (written every few seconds).
    pub last_at: DateTime<Utc>,
    /// Reads this entry stands for.
    pub count: i64,
}

impl From<domain::access_log::AccessEntry> for AccessEntry {
    fn from(e: domain::access_log::AccessEntry) -> Self {
        Self {
            id: e.id,
            client_id: e.client_id,
            actor_id: e.actor_id,
            actor_name: e.actor_name,
            actor_role: e.actor_role.into(),
            resource_kind: e.resource_kind,
            resource_id: e.resource_id,
            purpose: e.purpose.into(),
            door: e.door,
            request_id: e.request_id,
            first_at: e.first_at,
            last_at: e.last_at,
            count: e.count,
        }
    }
}
