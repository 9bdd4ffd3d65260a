//! Turns every error a client can see into an RFC 9457 `application/problem+json`
//! response: domain errors, actix's own rejections (JSON body, query, path) and
//! unknown routes. Storage error text goes to the log, never to the client.

use crate::codes;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use domain::DomainError;
use serde::Serialize;
use utoipa::ToSchema;

/// Largest JSON body: the longest message with room for escapes.
pub const JSON_LIMIT: usize = 64 * 1024;

// The longest message body, every character escaped as `\uXXXX`, still fits.
const _: () = assert!(domain::limits::MESSAGE_BODY.max * 6 + 1024 <= JSON_LIMIT);

/// Seconds a client should wait before retrying a 503.
const RETRY_AFTER_UNAVAILABLE: u64 = 3;

/// An RFC 9457 problem details body; `code` is an extension member shared with GraphQL.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; clients switch on it or on `code`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary: the HTTP reason phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, for a person to read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable code, e.g. `invalid_cursor`.
    pub code: String,
    /// The request parameter at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// Seconds to wait before retrying, sent as `Retry-After` (503s default to 3).
    #[serde(skip)]
    pub retry_after_secs: Option<u64>,
}

impl Problem {
    /// A problem of `status` with `code` and a human-readable `detail`.
    pub fn new(status: StatusCode, code: &str, detail: Option<String>) -> Self {
        Self {
            type_uri: format!("https://portal.example/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            parameter: None,
            retry_after_secs: None,
        }
    }

    /// The same problem, telling the client to retry after `secs` seconds.
    pub fn retry_after(self, secs: u64) -> Self {
        Self {
            retry_after_secs: Some(secs),
            ..self
        }
    }

    /// The response carrying this problem.
    pub fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = HttpResponse::build(status);
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        let retry_after = self
            .retry_after_secs
            .or((status == StatusCode::SERVICE_UNAVAILABLE).then_some(RETRY_AFTER_UNAVAILABLE));
        if let Some(secs) = retry_after {
            response.insert_header((header::RETRY_AFTER, secs.max(1)));
        }
        response.body(serde_json::to_string(self).expect("problems serialise"))
    }
}

/// The error type of every REST handler.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A request actix rejected before a handler ran (bad JSON, query or path).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
}

impl ApiError {
    fn problem(&self) -> Problem {
        match self {
            Self::Domain(err) => {
                let status = self.status_code();
                let detail = if status.is_server_error() {
                    None
                } else {
                    Some(err.to_string())
                };
                let problem = Problem {
                    parameter: err.parameter().map(str::to_owned),
                    ..Problem::new(status, err.code(), detail)
                };
                match err {
                    DomainError::RateLimited { retry_after_secs } => {
                        problem.retry_after(*retry_after_secs)
                    }
                    _ => problem,
                }
            }
            Self::BadRequest { code, detail } => {
                Problem::new(StatusCode::BAD_REQUEST, code, Some(detail.clone()))
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        use DomainError as E;
        match self {
            Self::Domain(err) => match err {
                E::NotFound { .. } => StatusCode::NOT_FOUND,
                E::Unauthenticated(_) | E::TotpRequired | E::InvalidTotp => {
                    StatusCode::UNAUTHORIZED
                }
                E::Forbidden { .. } | E::TotpEnrolmentRequired => StatusCode::FORBIDDEN,
                E::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                E::InvalidParameter { .. } | E::InvalidCursor { .. } | E::InvalidSyncToken => {
                    StatusCode::BAD_REQUEST
                }
                E::Validation(_) | E::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
                E::Conflict(_) | E::LegalHold => StatusCode::CONFLICT,
                E::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                E::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Domain(err @ (DomainError::Storage(_) | DomainError::Unavailable)) = self {
            // The full cause, which may quote stored data, is for the log only.
            tracing::error!(error = ?err, "request failed");
        }
        let mut response = self.problem().response();
        // Every 401 names its scheme (RFC 9110); only a refused token is `invalid_token`.
        let challenge = match self {
            Self::Domain(DomainError::Unauthenticated(_)) => {
                Some("Bearer realm=\"portal\", error=\"invalid_token\"")
            }
            Self::Domain(DomainError::TotpRequired | DomainError::InvalidTotp) => {
                Some("Bearer realm=\"portal\"")
            }
            _ => None,
        };
        if let Some(challenge) = challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// Gives a problem body to error responses that were produced without one (actix's
/// own 405, 413 and the like), so every 4xx and 5xx has one shape.
pub fn fill_empty_error<B>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = response
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let code = match status {
        StatusCode::NOT_FOUND => codes::NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED => codes::METHOD_NOT_ALLOWED,
        StatusCode::PAYLOAD_TOO_LARGE => codes::BODY_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => codes::UNSUPPORTED_MEDIA_TYPE,
        status if status.is_server_error() => codes::INTERNAL,
        _ => codes::BAD_REQUEST,
    };
    let (request, _) = response.into_parts();
    let problem = Problem::new(status, code, None).response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, problem).map_into_right_body(),
    ))
}
