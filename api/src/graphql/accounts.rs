//! GraphQL door to sign-up, sign-in and the caller's own account.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use domain::accounts::{Account, Origin, TokenPair};
use uuid::Uuid;

use super::{actor, graphql_error};
use crate::state::AppState;

/// What an account may do.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::actor::Role")]
pub enum Role {
    Client,
    Therapist,
    Support,
    Admin,
}

/// An account (never its password).
#[derive(SimpleObject, Clone)]
#[graphql(name = "Account")]
pub struct AccountObject {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// The directory profile of a therapist account.
    pub therapist_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<Account> for AccountObject {
    fn from(a: Account) -> Self {
        Self {
            id: a.id,
            email: a.email,
            display_name: a.display_name,
            role: a.role.into(),
            disabled: a.disabled,
            therapist_id: a.therapist_id,
            created_at: a.created_at,
        }
    }
}

/// A short-lived access token and a single-use refresh token.
#[derive(SimpleObject)]
pub struct Tokens {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: String,
}

impl From<TokenPair> for Tokens {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            token_type: "Bearer".to_owned(),
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token,
        }
    }
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in account.
    async fn me(&self, ctx: &Context<'_>) -> Result<AccountObject> {
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
    ) -> Result<AccountObject> {
        let state = ctx.data::<AppState>()?;
        let origin = ctx.data::<Origin>()?;
        let account = state
            .accounts
            .signup(origin, email, password, display_name)
            .await
            .map_err(graphql_error)?;
        Ok(account.into())
    }

    /// Sign in with email and password.
    async fn login(&self, ctx: &Context<'_>, email: String, password: String) -> Result<Tokens> {
        let state = ctx.data::<AppState>()?;
        let origin = ctx.data::<Origin>()?;
        let pair = state
            .accounts
            .login(origin, &email, password)
            .await
            .map_err(graphql_error)?;
        Ok(pair.into())
    }

    /// Trade a refresh token for a new pair; each works once.
    async fn refresh(&self, ctx: &Context<'_>, refresh_token: String) -> Result<Tokens> {
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
