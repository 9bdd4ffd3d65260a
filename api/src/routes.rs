//! What no handler answers: a path no route takes (404), a known path with another
//! method (405 with `Allow`, from the OpenAPI document's methods), and malformed
//! bodies, queries and paths (problem bodies with their codes).

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::codes;
use crate::problem::{ApiError, JSON_LIMIT, Problem};

/// Extractor settings that answer malformed input with a problem body.
pub fn extractor_configs(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(JSON_LIMIT)
            .error_handler(|err, _| {
                let code = match &err {
                    actix_web::error::JsonPayloadError::ContentType => {
                        codes::UNSUPPORTED_MEDIA_TYPE
                    }
                    actix_web::error::JsonPayloadError::Overflow { .. }
                    | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => {
                        codes::BODY_TOO_LARGE
                    }
                    _ => codes::MALFORMED_BODY,
                };
                // actix answers a wrong content type with 400; the code says 415.
                let status = match &err {
                    actix_web::error::JsonPayloadError::ContentType => {
                        StatusCode::UNSUPPORTED_MEDIA_TYPE
                    }
                    other => other.status_code(),
                };
                actix_web::error::InternalError::from_response(
                    err.to_string(),
                    Problem::new(status, code, Some(err.to_string())).response(),
                )
                .into()
            }),
    )
    .app_data(web::QueryConfig::default().error_handler(|err, _| {
        ApiError::BadRequest {
            code: codes::INVALID_PARAMETER,
            detail: err.to_string(),
        }
        .into()
    }))
    .app_data(web::PathConfig::default().error_handler(|err, request| {
        // `PATCH /v1/admin/therapists/export` reaches the `{id}` route because the
        // literal `export` route only takes GET: that is a wrong method, not a bad id.
        if route_methods().contains_key(request.path()) {
            return actix_web::error::InternalError::from_response(
                err.to_string(),
                method_not_allowed(request, request.path()),
            )
            .into();
        }
        ApiError::BadRequest {
            code: codes::INVALID_PATH,
            detail: err.to_string(),
        }
        .into()
    }));
}

/// Routes outside the OpenAPI document, with their methods, for `Allow`.
const UNDOCUMENTED_ROUTES: [(&str, &[&str]); 6] = [
    ("/openapi.json", &["GET"]),
    ("/graphql", &["GET", "POST"]),
    ("/docs", &["GET"]),
    ("/docs/{_:.*}", &["GET"]),
    ("/graphiql-assets/{name}", &["GET"]),
    ("/metrics", &["GET"]),
];

/// The methods of every route pattern: the OpenAPI document's, and the pages'.
fn route_methods() -> &'static HashMap<String, String> {
    static METHODS: OnceLock<HashMap<String, String>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let mut methods: HashMap<String, String> = UNDOCUMENTED_ROUTES
            .iter()
            .map(|(path, methods)| ((*path).to_owned(), methods.join(", ")))
            .collect();
        for (path, item) in crate::openapi::document().paths.paths {
            let allowed: Vec<&str> = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ]
            .into_iter()
            .filter_map(|(method, present)| present.then_some(method))
            .collect();
            methods.insert(path, allowed.join(", "));
        }
        methods
    })
}

/// Answers every request no route took: 405 with `Allow` when the path exists with
/// other methods, else 404.
pub async fn not_found(request: HttpRequest) -> HttpResponse {
    match request.match_pattern() {
        Some(pattern) => method_not_allowed(&request, &pattern),
        None => not_found_problem(&request),
    }
}

fn method_not_allowed(request: &HttpRequest, pattern: &str) -> HttpResponse {
    let mut response = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        Some(format!("{} is not allowed on {pattern}", request.method())),
    )
    .response();
    if let Some(allow) = route_methods()
        .get(pattern)
        .and_then(|allow| HeaderValue::from_str(allow).ok())
    {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// A 404 problem naming the request.
pub fn not_found_problem(request: &HttpRequest) -> HttpResponse {
    Problem::new(
        StatusCode::NOT_FOUND,
        codes::NOT_FOUND,
        Some(format!(
            "no route for {} {}",
            request.method(),
            request.path()
        )),
    )
    .response()
}
