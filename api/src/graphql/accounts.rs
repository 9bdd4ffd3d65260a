//! GraphQL door to sign-up, sign-in and the caller's own account.

use async_graphql::{Context, Object, Result};
use domain::accounts::{Origin, SecondFactor};

use super::{actor, graphql_error};
use crate::state::AppState;
use crate::views;

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in account.
    async fn me(&self, ctx: &Context<'_>) -> Result<views::Account> {
        let state = ctx.data::<AppState>()?;
        let account = state
            .accounts
            .me(actor(ctx)?)
            .await
            .map_err(graphql_error)?;
        Ok(account.into())
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Create a client account (password: 10 to 128 characters).
    async fn signup(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
        display_name: String,
    ) -> Result<views::Account> {
        let state = ctx.data::<AppState>()?;
        let origin = ctx.data::<Origin>()?;
        let account = state
            .accounts
            .signup(origin, email, password, display_name)
            .await
            .map_err(graphql_error)?;
        Ok(account.into())
    }

    /// Sign in with email and password. `refreshToken`: the one this device holds from
    /// an earlier sign-in, if any; a valid one of the same account lets the device sign
    /// in even while guessers have exhausted the attempts of its address or the email.
    /// An account with two-factor sign-in also sends `totp` (the app's current code)
    /// or `recoveryCode`; without it, a right password gets `totp_required`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
        refresh_token: Option<String>,
        totp: Option<String>,
        recovery_code: Option<String>,
    ) -> Result<views::Tokens> {
        let state = ctx.data::<AppState>()?;
        let origin = Origin {
            refresh_token,
            ..ctx.data::<Origin>()?.clone()
        };
        let factor = SecondFactor::from_fields(totp, recovery_code).map_err(graphql_error)?;
        let pair = state
            .accounts
            .login(&origin, &email, password, factor)
            .await
            .map_err(graphql_error)?;
        Ok(pair.into())
    }

    /// Trade a refresh token for a new pair; each works once.
    async fn refresh(&self, ctx: &Context<'_>, refresh_token: String) -> Result<views::Tokens> {
        let state = ctx.data::<AppState>()?;
        let pair = state
            .accounts
            .refresh(&refresh_token)
            .await
            .map_err(graphql_error)?;
        Ok(pair.into())
    }

    /// Sign out: the refresh token's sign-in stops working.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        state
            .accounts
            .logout(&refresh_token)
            .await
            .map_err(graphql_error)?;
        Ok(true)
    }
}
