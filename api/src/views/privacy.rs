//! What an admin sees of an erasure, in both doors.

use async_graphql::SimpleObject;
use serde::Serialize;
use utoipa::ToSchema;

use super::Account;

/// What an erasure did.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct Erasure {
    /// The account as it is now: a pseudonym, disabled for good.
    pub account: Account,
    /// Messages whose body (and every earlier body) this call deleted.
    pub messages_erased: u64,
    /// The account had been erased before: nothing was left to do.
    pub already_erased: bool,
}

impl From<domain::privacy::Erasure> for Erasure {
    fn from(e: domain::privacy::Erasure) -> Self {
        Self {
            account: e.account.into(),
            messages_erased: e.messages_erased,
            already_erased: e.already_erased,
        }
    }
}
