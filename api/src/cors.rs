//! CORS for browser apps served from other origins: off unless `PORTAL_CORS_ORIGINS`
//! lists them. Tokens travel in `Authorization`, never in cookies, so credentials
//! are not allowed; the docs pages are same-origin and always work.

use actix_cors::Cors;
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, header::HeaderValue};

/// The CORS middleware for `origins` (each `scheme://host[:port]`).
pub fn cors(origins: &[String]) -> Cors {
    let origins = origins.to_vec();
    Cors::default()
        .allowed_origin_fn(move |origin, request| {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok());
            origin_allowed(origin, host, &origins)
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

/// Whether a browser at `origin` may call this server, over HTTP or by opening a
/// WebSocket: from the server's own origin (`host`; browsers send `Origin` on
/// same-origin POSTs too, the docs pages' requests) or a configured one.
pub fn origin_allowed(origin: &HeaderValue, host: Option<&str>, allowed: &[String]) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let same_origin = host.is_some_and(|host| {
        origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority == host)
    });
    same_origin || allowed.iter().any(|entry| entry == origin)
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
