//! The members of conversations, kept in memory once read: a conversation's members
//! are fixed when it starts (no route adds or removes one), so a send does not read
//! them again. A route that changes membership must forget the conversation here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::DomainError;

/// Conversations kept before the cache starts over.
const KEEP: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct MemberCache(Mutex<HashMap<Uuid, Arc<[Uuid]>>>);

impl MemberCache {
    /// The members of conversation `id`, read over `conn` the first time.
    pub(crate) async fn of(
        &self,
        conn: &impl ConnectionTrait,
        id: Uuid,
    ) -> Result<Arc<[Uuid]>, DomainError> {
        if let Some(known) = self.lock().get(&id) {
            return Ok(known.clone());
        }
        let members: Arc<[Uuid]> = super::members_in(conn, id).await?.into();
        // An unknown conversation is not remembered: it may be started later.
        if !members.is_empty() {
            let mut known = self.lock();
            if known.len() >= KEEP {
                known.clear();
            }
            known.insert(id, members.clone());
        }
        Ok(members)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<[Uuid]>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
