//! REST door to sign-up, sign-in and the caller's own account. Password rules, token
//! checks and rate limits live in `domain::accounts`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use domain::accounts::{Origin, SecondFactor};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views;

/// Body of `POST /v1/auth/signup`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignupRequest {
    #[schema(max_length = 254, example = "ada@example.org")]
    pub email: String,
    /// 10 to 128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    /// 1 to 200 characters, not only white space.
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: String,
}

/// Body of `POST /v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The refresh token this device holds from an earlier sign-in, if any. A valid
    /// one of the same account lets the device sign in even while guessers have
    /// exhausted the attempts of its address or of the email.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// The authenticator app's current code, for an account with two-factor sign-in.
    #[serde(default)]
    pub totp: Option<String>,
    /// One of the recovery codes, in place of `totp`; each works once.
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// Body of `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Where a request comes from: the TCP peer (a proxy's address behind one).
pub fn origin(request: &HttpRequest) -> Origin {
    Origin {
        ip: request.peer_addr().map(|a| a.ip().to_string()),
        refresh_token: None,
    }
}

/// Create a client account
///
/// Create a client account from an email, a password and a display name. Needs no
/// token; sign in with `POST /v1/auth/login` afterwards.
#[utoipa::path(
    tag = "auth",
    security(),
    request_body = SignupRequest,
    responses(
        (status = 201, description = "The new account", body = views::Account),
        (status = 409, description = "The email is taken (`conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email, password or name (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/signup")]
pub async fn signup(
    request: HttpRequest,
    body: web::Json<SignupRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let account = state
        .accounts
        .signup(
            &origin(&request),
            body.email,
            body.password,
            body.display_name,
        )
        .await?;
    Ok(HttpResponse::Created().json(views::Account::from(account)))
}

/// Sign in
///
/// Sign in with email and password: a short-lived access token and a single-use refresh
/// token. An account with two-factor sign-in also sends `totp` (or `recovery_code`);
/// without it, a right password gets `totp_required`. Needs no token.
#[utoipa::path(
    tag = "auth",
    security(),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A token pair", body = views::Tokens),
        (status = 401, description = "Wrong email or password, or a disabled account (`unauthenticated`); the second factor missing (`totp_required`), wrong or used (`invalid_totp`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The email holds a control character, or both `totp` and `recovery_code` were sent (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/login")]
pub async fn login(
    request: HttpRequest,
    body: web::Json<LoginRequest>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::Tokens>, ApiError> {
    let body = body.into_inner();
    let origin = Origin {
        refresh_token: body.refresh_token,
        ..origin(&request)
    };
    let factor = SecondFactor::from_fields(body.totp, body.recovery_code)?;
    let pair = state
        .accounts
        .login(&origin, &body.email, body.password, factor)
        .await?;
    Ok(web::Json(pair.into()))
}

/// Refresh the token pair
///
/// Trade a refresh token for a new pair. Each refresh token works once; presenting a
/// spent one revokes every token of its sign-in.
#[utoipa::path(
    tag = "auth",
    security(),
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = views::Tokens),
        (status = 401, description = "Invalid, spent or expired refresh token (`unauthenticated`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/refresh")]
pub async fn refresh(
    body: web::Json<RefreshRequest>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::Tokens>, ApiError> {
    let pair = state.accounts.refresh(&body.refresh_token).await?;
    Ok(web::Json(pair.into()))
}

/// Sign out
///
/// Sign out: the refresh token and every token rotated from the same sign-in stop
/// working. Access tokens expire on their own (15 minutes by default).
#[utoipa::path(
    tag = "auth",
    security(),
    request_body = RefreshRequest,
    responses((status = 204, description = "Signed out")),
)]
#[post("/auth/logout")]
pub async fn logout(
    body: web::Json<RefreshRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.accounts.logout(&body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in account
///
/// The account the bearer token was issued to.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = views::Account),
        (status = 401, description = "No or invalid token (`unauthenticated`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/me")]
pub async fn me(
    Authenticated(actor): Authenticated,
    state: web::Data<AppState>,
) -> Result<web::Json<views::Account>, ApiError> {
    Ok(web::Json(state.accounts.me(&actor).await?.into()))
}
