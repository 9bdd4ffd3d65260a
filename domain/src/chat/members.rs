//! The members of conversations, and which of them are clients, kept in memory once
//! read: a conversation's members are fixed when it starts (no route adds or removes
//! one) and an account's role never changes, so a send or a read does not ask again.
//! A route that changes membership must forget the conversation here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::entity::member;
use crate::DomainError;
use crate::accounts::account;
use crate::actor::Role;

/// Conversations kept before a cache starts over.
const KEEP: usize = 10_000;

type Known = Mutex<HashMap<Uuid, Arc<[Uuid]>>>;

#[derive(Debug, Default)]
pub(crate) struct MemberCache {
    members: Known,
    clients: Known,
}

impl MemberCache {
    /// The members of conversation `id`, read over `conn` the first time.
    pub(crate) async fn of(
        &self,
        conn: &impl ConnectionTrait,
        id: Uuid,
    ) -> Result<Arc<[Uuid]>, DomainError> {
        remembered(&self.members, id, super::members_in(conn, id)).await
    }

    /// The members of conversation `id` who are clients: whose data it holds.
    pub(crate) async fn clients_of(
        &self,
        conn: &impl ConnectionTrait,
        id: Uuid,
    ) -> Result<Arc<[Uuid]>, DomainError> {
        let read = async {
            let clients = sea_orm::sea_query::Query::select()
                .column(account::Column::Id)
                .from(account::Entity)
                .and_where(account::Column::Role.eq(Role::Client.as_str()))
                .to_owned();
            Ok(member::Entity::find()
                .select_only()
                .column(member::Column::AccountId)
                .filter(member::Column::ConversationId.eq(id))
                .filter(member::Column::AccountId.in_subquery(clients))
                .into_tuple()
                .all(conn)
                .await?)
        };
        remembered(&self.clients, id, read).await
    }
}

/// What `known` holds for `id`, or what `read` answers, kept unless empty (an
/// unknown conversation may be started later).
async fn remembered(
    known: &Known,
    id: Uuid,
    read: impl Future<Output = Result<Vec<Uuid>, DomainError>>,
) -> Result<Arc<[Uuid]>, DomainError> {
    let lock = || known.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(found) = lock().get(&id) {
        return Ok(found.clone());
    }
    let found: Arc<[Uuid]> = read.await?.into();
    if !found.is_empty() {
        let mut known = lock();
        if known.len() >= KEEP {
            known.clear();
        }
        known.insert(id, found.clone());
    }
    Ok(found)
}
