//! REST door to erasure (GDPR Art. 17) and legal holds, under `/v1/admin/accounts`.
//! What is erased, who may, and when a hold forbids it is decided in
//! `domain::privacy`.

use actix_web::{post, put, web};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views;

/// Body of `POST /v1/admin/accounts/{id}/erase`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EraseRequest {
    /// Why (the person's request, say): kept with the audit entry. Required.
    #[schema(min_length = 1, max_length = 500)]
    #[serde(default)]
    pub reason: Option<String>,
}

/// Body of `PUT /v1/admin/accounts/{id}/legal-hold`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LegalHoldRequest {
    /// True places the hold, false releases it.
    pub held: bool,
    /// Why: kept with the audit entry. Required.
    #[schema(min_length = 1, max_length = 500)]
    #[serde(default)]
    pub reason: Option<String>,
}

/// Erase an account
///
/// Erases a person (admins only; never yourself), audited with the reason: signed out
/// everywhere (refresh tokens, open WebSocket and SSE streams, presence), devices,
/// pending pushes, change feed and second factor deleted, email and display name
/// replaced by a pseudonym and the directory profile removed, so the account can
/// never sign in again; the body and every earlier body of each message they sent
/// deleted, leaving tombstones in their seqs so the other members' history stays
/// whole. Access-log and audit entries stay and name the pseudonym. Erasing again
/// answers 200 with `already_erased`.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    request_body = EraseRequest,
    responses(
        (status = 200, description = "Erased (now or before)", body = views::Erasure),
        (status = 400, description = "Malformed body (`malformed_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or your own account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A legal hold keeps the account's records (`legal_hold`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`reason` missing, blank or over 500 characters", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/admin/accounts/{id}/erase")]
pub async fn erase_account(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    body: web::Json<EraseRequest>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::Erasure>, ApiError> {
    let erasure = state
        .privacy
        .erase(&actor, *id, body.reason.as_deref())
        .await?;
    Ok(web::Json(erasure.into()))
}

/// Place or release a legal hold
///
/// While held, an account's records are kept for a legal duty and erasing it is a
/// 409 `legal_hold` (admins only; audited with the reason).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    request_body = LegalHoldRequest,
    responses(
        (status = 200, description = "The account, with its hold", body = views::Account),
        (status = 400, description = "Malformed body (`malformed_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account was erased: nothing is left to hold (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`reason` missing, blank or over 500 characters", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/admin/accounts/{id}/legal-hold")]
pub async fn set_legal_hold(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    body: web::Json<LegalHoldRequest>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::Account>, ApiError> {
    let account = state
        .privacy
        .set_legal_hold(&actor, *id, body.held, body.reason.as_deref())
        .await?;
    Ok(web::Json(account.into()))
}
