//! CORS for browser apps served from other origins: off unless `PORTAL_CORS_ORIGINS`
//! lists them. Tokens travel in `Authorization`, never in cookies, so credentials
//! are not allowed; the docs pages are same-origin and always work.

use actix_cors::Cors;
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, header::HeaderValue};

/// The CORS middleware for `origins` (each `scheme://host[:port]`).
pub fn cors(origins: &[String]) -> Cors {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    Cors::default()
        .allowed_origin_fn(move |origin, request| {
            origins.contains(origin) || is_same_origin(origin, request)
        })
        .allowed_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::LINK,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600)
}

/// Browsers send `Origin` on same-origin POSTs too (the docs pages' requests).
fn is_same_origin(origin: &HeaderValue, request: &actix_web::dev::RequestHead) -> bool {
    let (Ok(origin), Some(host)) = (
        origin.to_str(),
        request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok()),
    ) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority == host)
}

/// Checks `PORTAL_CORS_ORIGINS` entries: `http(s)://host[:port]`, nothing after.
pub fn validate(origins: &[String]) -> Result<(), String> {
    for origin in origins {
        let valid = ["http://", "https://"].iter().any(|scheme| {
            origin
                .strip_prefix(scheme)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains(['/', '?', '#', '*', ' ']))
        });
        if !valid {
            return Err(format!(
                "PORTAL_CORS_ORIGINS: {origin:?} is not an origin like https://portal.example.org"
            ));
        }
    }
    Ok(())
}
