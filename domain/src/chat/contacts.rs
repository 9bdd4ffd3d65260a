//! Who shares a conversation with whom: the contacts presence may show each other.

use std::collections::HashSet;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::member;
use crate::DomainError;
use crate::database::Db;

/// The accounts that share a conversation with `account`, and how many statements
/// finding them took (one when it has no conversation, else two).
pub(crate) async fn contacts_of(
    db: &Db,
    account: Uuid,
) -> Result<(HashSet<Uuid>, u64), DomainError> {
    let conversations: Vec<Uuid> = member::Entity::find()
        .select_only()
        .column(member::Column::ConversationId)
        .filter(member::Column::AccountId.eq(account))
        .into_tuple()
        .all(db)
        .await?;
    if conversations.is_empty() {
        return Ok((HashSet::new(), 1));
    }
    let contacts: Vec<Uuid> = member::Entity::find()
        .select_only()
        .column(member::Column::AccountId)
        .filter(member::Column::ConversationId.is_in(conversations))
        .filter(member::Column::AccountId.ne(account))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    Ok((contacts.into_iter().collect(), 2))
}
