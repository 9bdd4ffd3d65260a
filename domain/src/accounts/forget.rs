//! What erasure asks of accounts: every credential gone (refresh tokens, the second
//! factor), and every session of the person on every node told to end.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::session::Revocation;
use super::{AccountService, refresh_token};
use crate::DomainError;

/// Deletes `account`'s refresh tokens and second factor on `conn` (erasure's
/// transaction).
pub(crate) async fn forget_credentials(
    conn: &impl ConnectionTrait,
    account: Uuid,
) -> Result<(), DomainError> {
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::AccountId.eq(account))
        .exec(conn)
        .await?;
    super::totp::forget(conn, account).await
}

impl AccountService {
    /// Ends every session of `account` (after the transaction that disabled it
    /// commits): open WebSocket and SSE streams close, presence goes with them.
    pub(crate) fn signed_out_everywhere(&self, account: Uuid) {
        self.revoked(Revocation::Account(account));
    }
}
