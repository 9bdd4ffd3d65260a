//! GraphQL door to erasure and legal holds, as `/v1/admin/accounts/{id}/erase` and
//! `…/legal-hold` offer them.

use async_graphql::{Context, Object, Result};
use uuid::Uuid;

use super::{actor, graphql_error};
use crate::state::AppState;
use crate::views;

#[derive(Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Erase a person (admins only; never yourself), audited with `reason` (1 to 500
    /// characters): signed out everywhere, a pseudonym in place of their email and
    /// name, every body they wrote deleted (tombstones keep the seqs). A legal hold
    /// refuses it (`legal_hold`); erasing again answers `alreadyErased`.
    async fn erase_account(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        reason: String,
    ) -> Result<views::Erasure> {
        let state = ctx.data::<AppState>()?;
        let erasure = state
            .privacy
            .erase(actor(ctx)?, id, Some(&reason))
            .await
            .map_err(graphql_error)?;
        Ok(erasure.into())
    }

    /// Place (`held: true`) or release a legal hold, audited with `reason` (admins
    /// only). While held, the account cannot be erased.
    async fn set_legal_hold(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        held: bool,
        reason: String,
    ) -> Result<views::Account> {
        let state = ctx.data::<AppState>()?;
        let account = state
            .privacy
            .set_legal_hold(actor(ctx)?, id, held, Some(&reason))
            .await
            .map_err(graphql_error)?;
        Ok(account.into())
    }
}
