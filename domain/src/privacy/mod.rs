//! A person's rights over the data held about them (GDPR): a copy of all of it
//! (Art. 15, [`export`]) and its erasure (Art. 17, [`erasure`]), which a legal hold
//! can forbid. Who may ask and what is logged is decided here, for every door alike.

mod erasure;
mod export;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use erasure::Erasure;
pub use export::ExportItem;

use sea_orm::EntityTrait;

use crate::DomainError;
use crate::access_log::AccessLog;
use crate::accounts::{Account, AccountService, account};
use crate::actor::Role;
use crate::database::Db;

/// Exports and erases what is held about a person.
#[derive(Debug, Clone)]
pub struct PrivacyService {
    db: Db,
    access_log: AccessLog,
    /// To sign an erased person out everywhere.
    accounts: AccountService,
}

impl PrivacyService {
    pub fn new(db: Db, access_log: AccessLog, accounts: AccountService) -> Self {
        Self {
            db,
            access_log,
            accounts,
        }
    }

    /// The account of `person`; `not_found` when there is none.
    async fn person(&self, person: Uuid) -> Result<Account, DomainError> {
        account::Entity::find_by_id(person)
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound { entity: "account" })
            .and_then(Account::try_from)
    }
}

/// A conversation the person is a member of, with everyone in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedConversation {
    pub id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    /// Messages in all, tombstones included.
    pub message_count: i64,
    /// The person's own switch: no push for this conversation.
    pub muted: bool,
    pub members: Vec<ExportedMember>,
}

/// A member of an exported conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedMember {
    pub account_id: Uuid,
    pub display_name: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// An earlier body of one of the person's own messages, before an edit or deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub conversation_id: Uuid,
    pub seq: i64,
    /// 1 for the first body replaced, then 2, 3, …
    pub revision: i32,
    pub body: String,
    pub replaced_at: DateTime<Utc>,
}
