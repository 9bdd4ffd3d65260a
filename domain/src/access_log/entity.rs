//! The access log's table, as SeaORM sees it.

use sea_orm::entity::prelude::*;

/// One access, or several by the same actor to the same resource within a window.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_log")]
pub struct Model {
    /// UUID v7: in the order entries were opened; it alone keys pages.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub actor_id: Uuid,
    pub actor_role: String,
    /// `conversation`, `account` or `export`.
    pub resource_kind: String,
    pub resource_id: Uuid,
    /// `care`, `support`, `export` or `erasure`.
    pub purpose: String,
    /// `rest`, `graphql`, `sse` or `websocket`.
    pub door: String,
    pub request_id: Option<String>,
    pub first_at: DateTimeUtc,
    pub last_at: DateTimeUtc,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
