//! Who is calling: request ids for every request, and the bearer-token extractor that
//! turns `Authorization: Bearer …` into the domain's `Actor` (the domain decides
//! whether the token is valid and the account still active).

use std::future::{Ready, ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use domain::DomainError;
use domain::accounts::{AccountService, Credentials};
use domain::actor::{Actor, Door};
use futures_util::future::LocalBoxFuture;
use tracing::Instrument;

use crate::problem::ApiError;
use crate::state::AppState;

/// The header carrying the request id in both directions.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// This request's id: the client's `X-Request-Id` when it is sane, else a new UUID v7.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl FromRequest for RequestId {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = request.extensions().get::<RequestId>().cloned();
        ready(Ok(id.unwrap_or_else(|| {
            RequestId(uuid::Uuid::now_v7().to_string())
        })))
    }
}

/// The client's `X-Request-Id` when it is sane, else a new UUID v7.
pub fn request_id_of(headers: &HeaderMap) -> String {
    headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// Middleware: assigns the request id, runs the request inside a span that carries
/// it (so every log line has it), logs one line per answered request, and returns the
/// id in the response.
pub async fn with_request_id(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id_of(request.headers());
    request.extensions_mut().insert(RequestId(id.clone()));
    // The path, never the query string: queries can carry searched names.
    let span = tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.path());
    let started = std::time::Instant::now();
    let mut response = next.call(request).instrument(span.clone()).await?;
    tracing::info!(
        parent: &span,
        status = response.status().as_u16(),
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "request answered"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// The one way every door establishes its caller: REST, GraphQL over HTTP and the
/// WebSocket's `connection_init` (and its renewals) all come here with the value of
/// their `Authorization` (`None` when there is none), the request's id and which
/// door they are (both recorded in the audit and access logs).
/// `Ok(None)`: anonymous; an error when the credential is malformed or refused.
pub async fn authenticate(
    accounts: &AccountService,
    authorization: Option<&str>,
    request_id: Option<String>,
    door: Door,
) -> Result<Option<Credentials>, DomainError> {
    let Some(authorization) = authorization else {
        return Ok(None);
    };
    let token = bearer_credential(authorization).ok_or(DomainError::Unauthenticated(
        "the Authorization must be `Bearer <token>`",
    ))?;
    let mut credentials = accounts.authenticate(token).await?;
    credentials.actor.request_id = request_id;
    credentials.actor.door = door;
    Ok(Some(credentials))
}

/// As `authenticate`, refusing a token that reaches only two-factor enrolment: what
/// every door but enrolment's asks.
pub async fn authenticate_fully(
    accounts: &AccountService,
    authorization: Option<&str>,
    request_id: Option<String>,
    door: Door,
) -> Result<Option<Credentials>, DomainError> {
    authenticate(accounts, authorization, request_id, door)
        .await?
        .map(Credentials::full)
        .transpose()
}

/// The `Authorization` header of a request, as text (a header that is not text is
/// kept as an empty credential, which is refused as malformed).
pub fn authorization_of(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default().to_owned())
}

/// The token of a `Bearer <token>` credential (scheme in any case).
fn bearer_credential(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// An authenticated caller; rejects the request with 401 otherwise.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credentials = credentials_of(request);
        Box::pin(async move { Ok(Self(credentials.await?.full()?.actor)) })
    }
}

/// A caller on the way to two-factor sign-in: an authenticated one, or staff whose
/// token reaches only enrolment; rejects the request with 401 otherwise.
#[derive(Debug, Clone)]
pub struct Enrolling(pub Actor);

impl FromRequest for Enrolling {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credentials = credentials_of(request);
        Box::pin(async move { Ok(Self(credentials.await?.actor)) })
    }
}

/// The credentials of an authenticated caller, for a long-lived session that must end
/// when they do; rejects the request with 401 otherwise.
#[derive(Debug, Clone)]
pub struct SessionCredentials(pub Credentials);

impl FromRequest for SessionCredentials {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credentials = credentials_of(request);
        Box::pin(async move { Ok(Self(credentials.await?.full()?)) })
    }
}

/// The request's bearer token, verified, with the request id on its actor.
fn credentials_of(
    request: &HttpRequest,
) -> impl Future<Output = Result<Credentials, ApiError>> + 'static {
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let authorization = authorization_of(request);
    let request_id = request.extensions().get::<RequestId>().map(|r| r.0.clone());
    async move {
        let state = state.ok_or(DomainError::Unavailable)?;
        authenticate(
            &state.accounts,
            authorization.as_deref(),
            request_id,
            Door::Rest,
        )
        .await?
        .ok_or(DomainError::Unauthenticated("a bearer token is required").into())
    }
}
