//! GraphQL door to two-factor sign-in, as `/v1/me/totp` offers it.

use async_graphql::{Context, Object, Result};
use domain::accounts::SecondFactor;

use super::{actor, enrolling_actor, graphql_error};
use crate::state::AppState;
use crate::views;

#[derive(Default)]
pub struct TotpMutation;

#[Object]
impl TotpMutation {
    /// Start two-factor enrolment: a TOTP secret (SHA-1, six digits, 30 s) pending
    /// until `confirmTotp`. Staff whose token reaches only enrolment may call this.
    async fn start_totp_enrolment(&self, ctx: &Context<'_>) -> Result<views::TotpEnrolment> {
        let state = ctx.data::<AppState>()?;
        let enrolment = state
            .accounts
            .start_totp(enrolling_actor(ctx)?)
            .await
            .map_err(graphql_error)?;
        Ok(enrolment.into())
    }

    /// Turn two-factor sign-in on with the app's first code; answers ten one-time
    /// recovery codes, shown this once.
    async fn confirm_totp(&self, ctx: &Context<'_>, code: String) -> Result<views::RecoveryCodes> {
        let state = ctx.data::<AppState>()?;
        let recovery_codes = state
            .accounts
            .confirm_totp(enrolling_actor(ctx)?, &code)
            .await
            .map_err(graphql_error)?;
        Ok(views::RecoveryCodes { recovery_codes })
    }

    /// Turn two-factor sign-in off, proved by a current `code` or a `recoveryCode`.
    async fn remove_totp(
        &self,
        ctx: &Context<'_>,
        code: Option<String>,
        recovery_code: Option<String>,
    ) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        let factor = SecondFactor::required(code, recovery_code).map_err(graphql_error)?;
        state
            .accounts
            .remove_totp(actor(ctx)?, &factor)
            .await
            .map_err(graphql_error)?;
        Ok(true)
    }
}
