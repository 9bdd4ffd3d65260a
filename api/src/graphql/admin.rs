//! GraphQL door to the support tools: account search, disabling, therapist accounts
//! and profiles, the audit log. Who may do what is decided in `domain`.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result};
use domain::accounts::{AccountFilter, NewTherapistAccount};
use domain::directory::{NewProfile, ProfilePatch};
use uuid::Uuid;

use super::connection::{Connection, connection_of, connection_page};
use super::directory::AcceptingStatus;
use super::plain::OnePass;
use super::{actor, graphql_error};
use crate::state::AppState;
use crate::views;
use crate::views::Role;
use async_graphql::connection::EmptyFields;

/// Narrows the account search.
#[derive(InputObject, Default)]
pub struct AccountFilterInput {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// Case-insensitive start of the email.
    pub email_prefix: Option<String>,
}

/// A therapist account and its profile, created together.
#[derive(InputObject)]
pub struct CreateTherapistInput {
    pub email: String,
    /// Initial password, 10 to 128 characters.
    pub password: String,
    pub display_name: String,
    #[graphql(default)]
    pub bio: String,
    #[graphql(default)]
    pub specialties: Vec<String>,
    #[graphql(default)]
    pub languages: Vec<String>,
    pub city: String,
    pub country: String,
    pub organisation_id: Option<Uuid>,
    pub accepting: AcceptingStatus,
    pub offers_online: bool,
    pub offers_in_person: bool,
}

/// Profile fields to change; omitted fields stay, `organisationId: null` removes it.
#[derive(InputObject, Default)]
pub struct UpdateTherapistInput {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub specialties: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub organisation_id: MaybeUndefined<Uuid>,
    pub accepting: Option<AcceptingStatus>,
    pub offers_online: Option<bool>,
    pub offers_in_person: Option<bool>,
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Accounts by email (support and admin).
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<AccountFilterInput>,
    ) -> Result<Connection<views::Account>> {
        let state = ctx.data::<AppState>()?;
        let page = connection_page(ctx, first, after, last, before);
        let filter = filter.unwrap_or_default();
        let filter = AccountFilter {
            role: filter.role.map(Into::into),
            disabled: filter.disabled,
            email_prefix: filter.email_prefix,
        };
        let page = state
            .accounts
            .list(actor(ctx)?, filter, page)
            .await
            .map_err(graphql_error)?;
        Ok(connection_of(page, views::Account::from, EmptyFields))
    }

    /// The audit log, newest first (admins).
    async fn audit_entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<views::AuditEntry>> {
        let state = ctx.data::<AppState>()?;
        let page = connection_page(ctx, first, after, last, before);
        let page = state
            .audit
            .list(actor(ctx)?, page)
            .await
            .map_err(graphql_error)?;
        Ok(connection_of(page, views::AuditEntry::from, EmptyFields))
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Disable an account (support and admin; only admins disable staff).
    async fn disable_account(&self, ctx: &Context<'_>, id: Uuid) -> Result<views::Account> {
        set_disabled(ctx, id, true).await
    }

    /// Enable a disabled account again.
    async fn enable_account(&self, ctx: &Context<'_>, id: Uuid) -> Result<views::Account> {
        set_disabled(ctx, id, false).await
    }

    /// Create a therapist account with its directory profile (support and admin).
    async fn create_therapist(
        &self,
        ctx: &Context<'_>,
        input: CreateTherapistInput,
    ) -> Result<views::TherapistAccount> {
        let state = ctx.data::<AppState>()?;
        let new = NewTherapistAccount {
            email: input.email,
            password: input.password,
            profile: NewProfile {
                display_name: input.display_name,
                bio: input.bio,
                specialties: input.specialties,
                languages: input.languages,
                city: input.city,
                country: input.country,
                organisation_id: input.organisation_id,
                accepting: input.accepting.into(),
                offers_online: input.offers_online,
                offers_in_person: input.offers_in_person,
            },
        };
        let account = state
            .accounts
            .create_therapist(actor(ctx)?, new)
            .await
            .map_err(graphql_error)?;
        Ok(account.into())
    }

    /// Edit a therapist profile (support and admin).
    async fn update_therapist(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: UpdateTherapistInput,
    ) -> Result<views::Therapist> {
        let state = ctx.data::<AppState>()?;
        let patch = ProfilePatch {
            display_name: input.display_name,
            bio: input.bio,
            specialties: input.specialties,
            languages: input.languages,
            city: input.city,
            country: input.country,
            organisation_id: match input.organisation_id {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(id) => Some(Some(id)),
            },
            accepting: input.accepting.map(Into::into),
            offers_online: input.offers_online,
            offers_in_person: input.offers_in_person,
        };
        let therapist = state
            .directory
            .update_profile(actor(ctx)?, id, patch)
            .await
            .map_err(graphql_error)?;
        Ok(therapist.into())
    }
}

async fn set_disabled(ctx: &Context<'_>, id: Uuid, disabled: bool) -> Result<views::Account> {
    let state = ctx.data::<AppState>()?;
    let account = state
        .accounts
        .set_disabled(actor(ctx)?, id, disabled)
        .await
        .map_err(graphql_error)?;
    Ok(account.into())
}

impl OnePass for views::Account {}

impl OnePass for views::AuditEntry {}
