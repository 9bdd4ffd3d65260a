//! REST door to the support tools under `/v1/admin`: account search, disabling,
//! therapist accounts and profiles, the audit log and the directory export. Who may
//! do what is decided in `domain`; every action is audited there.

use actix_web::{HttpResponse, get, patch, post, web};
use domain::accounts::{AccountFilter, NewTherapistAccount};
use domain::directory::{NewProfile, ProfilePatch};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::paging::PageQuery;
use super::paging::{Paged, paged_response, rest_page};
use super::therapists::AcceptingStatus;
use crate::auth::Authenticated;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views;

/// Query of `GET /v1/admin/accounts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAccountsQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub after: Option<String>,
    pub before: Option<String>,
    pub role: Option<views::Role>,
    pub disabled: Option<bool>,
    /// Case-insensitive start of the email.
    pub email_prefix: Option<String>,
}

/// Search accounts
///
/// Search accounts by email order (support and admin), one page at a time, by role, disabled state or email prefix.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(ListAccountsQuery),
    responses(
        (status = 200, description = "One page of accounts", body = Paged<views::Account>),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`"),
        (status = 400, description = "Bad filter, cursor or page size", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not support staff", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/admin/accounts")]
pub async fn list_accounts(
    request: actix_web::HttpRequest,
    Authenticated(actor): Authenticated,
    query: web::Query<ListAccountsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = rest_page(query.limit, query.after, query.before);
    let filter = AccountFilter {
        role: query.role.map(Into::into),
        disabled: query.disabled,
        email_prefix: query.email_prefix,
    };
    let page = state.accounts.list(&actor, filter, page).await?;
    Ok(paged_response(&request, page.map(views::Account::from)))
}

/// Disable an account
///
/// Disable an account: its sign-ins are revoked and its tokens stop working within
/// seconds (support and admin; only admins disable staff).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account, now disabled", body = views::Account),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/admin/accounts/{id}/disable")]
pub async fn disable_account(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::Account>, ApiError> {
    let account = state.accounts.set_disabled(&actor, *id, true).await?;
    Ok(web::Json(account.into()))
}

/// Enable an account
///
/// Enable a disabled account again (support and admin; only admins enable staff).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account, now enabled", body = views::Account),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/admin/accounts/{id}/enable")]
pub async fn enable_account(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::Account>, ApiError> {
    let account = state.accounts.set_disabled(&actor, *id, false).await?;
    Ok(web::Json(account.into()))
}

/// Body of `POST /v1/admin/therapists`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTherapistRequest {
    #[schema(max_length = 254)]
    pub email: String,
    /// Initial password, 10 to 128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    /// 1 to 200 characters, not only white space.
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: String,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub bio: String,
    /// Codes of 1 to 64 lowercase letters, digits, `-` or `_`.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub specialties: Vec<String>,
    /// ISO 639-1 codes (1 to 64 lowercase letters, digits, `-` or `_`).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub languages: Vec<String>,
    /// 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub city: String,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(min_length = 2, max_length = 2, example = "DE")]
    pub country: String,
    pub organisation_id: Option<Uuid>,
    pub accepting: AcceptingStatus,
    pub offers_online: bool,
    pub offers_in_person: bool,
}

/// Create a therapist account
///
/// Create a therapist account together with its directory profile (support and admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = CreateTherapistRequest,
    responses(
        (status = 201, description = "The account and profile", body = views::TherapistAccount),
        (status = 403, description = "Not support staff", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/admin/therapists")]
pub async fn create_therapist(
    Authenticated(actor): Authenticated,
    body: web::Json<CreateTherapistRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let new = NewTherapistAccount {
        email: b.email,
        password: b.password,
        profile: NewProfile {
            display_name: b.display_name,
            bio: b.bio,
            specialties: b.specialties,
            languages: b.languages,
            city: b.city,
            country: b.country,
            organisation_id: b.organisation_id,
            accepting: b.accepting.into(),
            offers_online: b.offers_online,
            offers_in_person: b.offers_in_person,
        },
    };
    let created = state.accounts.create_therapist(&actor, new).await?;
    Ok(HttpResponse::Created().json(views::TherapistAccount::from(created)))
}

/// Body of `PATCH /v1/admin/therapists/{id}`: only the fields present change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateTherapistRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: Option<String>,
    #[schema(max_length = 5000)]
    pub bio: Option<String>,
    #[schema(max_items = 20)]
    pub specialties: Option<Vec<String>>,
    #[schema(max_items = 20)]
    pub languages: Option<Vec<String>>,
    #[schema(min_length = 1, max_length = 100)]
    pub city: Option<String>,
    #[schema(min_length = 2, max_length = 2)]
    pub country: Option<String>,
    /// `null` removes the organisation; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub organisation_id: Option<Option<Uuid>>,
    pub accepting: Option<AcceptingStatus>,
    pub offers_online: Option<bool>,
    pub offers_in_person: Option<bool>,
}

/// Tells a field given as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Edit a therapist profile
///
/// Edit a therapist profile (support and admin): only the fields present in the body
/// change; `organisation_id: null` removes the organisation.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Therapist id")),
    request_body = UpdateTherapistRequest,
    responses(
        (status = 200, description = "The profile as stored", body = views::Therapist),
        (status = 403, description = "Not support staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such therapist", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/admin/therapists/{id}")]
pub async fn update_therapist(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    body: web::Json<UpdateTherapistRequest>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::Therapist>, ApiError> {
    let b = body.into_inner();
    let patch = ProfilePatch {
        display_name: b.display_name,
        bio: b.bio,
        specialties: b.specialties,
        languages: b.languages,
        city: b.city,
        country: b.country,
        organisation_id: b.organisation_id,
        accepting: b.accepting.map(Into::into),
        offers_online: b.offers_online,
        offers_in_person: b.offers_in_person,
    };
    let therapist = state.directory.update_profile(&actor, *id, patch).await?;
    Ok(web::Json(therapist.into()))
}

/// Read the audit log
///
/// The audit log, newest first (admins), one page at a time.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of the audit log", body = Paged<views::AuditEntry>),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/admin/audit")]
pub async fn list_audit(
    request: actix_web::HttpRequest,
    Authenticated(actor): Authenticated,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = rest_page(query.limit, query.after, query.before);
    let page = state.audit.list(&actor, page).await?;
    Ok(paged_response(&request, page.map(views::AuditEntry::from)))
}

/// Export the directory as NDJSON
///
/// The whole directory as NDJSON, one `TherapistDto` per line in name order, streamed in
/// keyset batches: memory stays constant whatever the directory's size (support and
/// admin).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The directory, one JSON `TherapistDto` per line", body = super::streams::TherapistExport, content_type = "application/x-ndjson"),
        (status = 403, description = "Not support staff", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/admin/therapists/export")]
pub async fn export_therapists(
    Authenticated(actor): Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let batches = state.directory.export(&actor)?;
    Ok(super::export::ndjson::<_, views::Therapist>(batches))
}
