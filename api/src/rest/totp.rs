//! REST door to two-factor sign-in: enrolment, confirmation and removal. The codes,
//! their one-time rule and the rate limit live in `domain::accounts`.

use actix_web::{HttpResponse, delete, post, web};
use domain::accounts::SecondFactor;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{Authenticated, Enrolling};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views;

/// Body of `POST /v1/me/totp/confirm`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TotpConfirmation {
    /// The app's current six-digit code.
    #[schema(example = "492039")]
    pub code: String,
}

/// Body of `DELETE /v1/me/totp`: a current code, or one of the recovery codes.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TotpRemoval {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// Start two-factor enrolment
///
/// A new TOTP secret for the caller (RFC 6238: SHA-1, six digits, 30 s), pending
/// until confirmed with `POST /v1/me/totp/confirm`. Starting again replaces a pending
/// secret. Staff whose token reaches only enrolment may call this.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The secret and its `otpauth://` URI", body = views::TotpEnrolment),
        (status = 401, description = "No or invalid token (`unauthenticated`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Two-factor sign-in is already on (`conflict`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/me/totp")]
pub async fn start_totp(
    Enrolling(actor): Enrolling,
    state: web::Data<AppState>,
) -> Result<web::Json<views::TotpEnrolment>, ApiError> {
    Ok(web::Json(state.accounts.start_totp(&actor).await?.into()))
}

/// Confirm two-factor enrolment
///
/// Turns two-factor sign-in on with the app's first code, and answers ten one-time
/// recovery codes, shown this once. From then on, login needs `totp` or
/// `recovery_code`; staff sign in again to get a token that reaches everything.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = TotpConfirmation,
    responses(
        (status = 200, description = "Two-factor sign-in is on", body = views::RecoveryCodes),
        (status = 401, description = "No or invalid token (`unauthenticated`), or a wrong or used code (`invalid_totp`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No enrolment is pending (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many codes tried (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/me/totp/confirm")]
pub async fn confirm_totp(
    Enrolling(actor): Enrolling,
    body: web::Json<TotpConfirmation>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::RecoveryCodes>, ApiError> {
    let recovery_codes = state.accounts.confirm_totp(&actor, &body.code).await?;
    Ok(web::Json(views::RecoveryCodes { recovery_codes }))
}

/// Turn two-factor sign-in off
///
/// Removes the caller's TOTP secret and recovery codes, proved by a current `code`
/// or a `recovery_code`.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = TotpRemoval,
    responses(
        (status = 204, description = "Two-factor sign-in is off"),
        (status = 401, description = "No or invalid token (`unauthenticated`), or a wrong or used code (`invalid_totp`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Two-factor sign-in is not on (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither or both of `code` and `recovery_code` (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many codes tried (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/me/totp")]
pub async fn remove_totp(
    Authenticated(actor): Authenticated,
    body: web::Json<TotpRemoval>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let factor = SecondFactor::required(body.code, body.recovery_code)?;
    state.accounts.remove_totp(&actor, &factor).await?;
    Ok(HttpResponse::NoContent().finish())
}
