//! The OpenAPI document: collected from the `#[utoipa::path]` of every registered
//! route, served at `/openapi.json` and printed by `portal openapi`.

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    modifiers(&BearerScheme),
    info(
        title = "Therapist portal API",
        description = "REST door of the therapist portal. Errors are RFC 9457 problem details with a stable `code`.",
        // Whoever runs this node: the document has no fixed address to name.
        contact(name = "The operator of this portal")
    ),
    // Relative, so the document works wherever it is served from (and schemathesis
    // resolves it against the node it tests).
    servers((url = "/", description = "The node that serves this document")),
    tags(
        (name = "auth", description = "Sign-up, sign-in and the caller's account"),
        (name = "directory", description = "Find therapists"),
        (name = "chat", description = "Conversations and messages"),
        (name = "realtime", description = "Presence and the event stream"),
        (name = "push", description = "Devices that get a push when a message arrives, and muting"),
        (name = "admin", description = "Support tools: accounts, therapist profiles, audit log, export"),
        (name = "operations", description = "Health and readiness"),
    ),
    // Query parameters `$ref` these, and `IntoParams` registers no schema of its own.
    components(schemas(
        crate::problem::Problem,
        crate::views::AcceptingStatus,
        crate::views::MeetingMode,
        crate::views::Role,
        crate::views::AccessPurpose,
        crate::rest::SortParam,
    ))
)]
struct ApiDoc;

/// Declares the `bearer` scheme that protected operations name.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
    }
}

/// The whole document as pretty JSON with a final newline, exactly as committed in
/// `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

/// The whole document, collected from the registered routes.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::health::configure)
        .service(utoipa_actix_web::scope("/v1").configure(crate::rest::configure))
        .split_for_parts();
    add_common_responses(&mut document);
    reference_page_items(&mut document);
    document
}

/// utoipa copies a type parameter's whole schema into `Paged_<T>`; point `items` at
/// `<T>` instead, so that a generated client has one type for a list item and a single
/// resource.
fn reference_page_items(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{ArrayBuilder, Schema};
    use utoipa::openapi::{Ref, RefOr};

    let Some(components) = document.components.as_mut() else {
        return;
    };
    for (name, schema) in &mut components.schemas {
        if let (Some(item), RefOr::T(Schema::Object(object))) =
            (name.strip_prefix("Paged_"), schema)
        {
            object.properties.insert(
                "items".to_owned(),
                ArrayBuilder::new()
                    .items(Ref::from_schema_name(item))
                    .into(),
            );
        }
    }
}

/// Documents the answers that middleware and extractors give on behalf of every
/// handler, so each operation lists every status a client can see: 401 where a token
/// is required, 400/413/415 where a request can be malformed, and 429/503 on `/v1`.
fn add_common_responses(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{RefOr, Required};

    for (path, item) in &mut document.paths.paths {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            let in_path = parameters
                .iter()
                .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
            let in_query = parameters
                .iter()
                .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
            let body = operation
                .request_body
                .as_ref()
                .is_some_and(|b| matches!(b, RefOr::T(b) if b.required == Some(Required::True)));
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem_response(status, description).into());
            };
            if secured {
                add(
                    "401",
                    "No, malformed, expired or revoked bearer token (`unauthenticated`)",
                );
            }
            if in_path || in_query || body {
                add(
                    "400",
                    "A malformed path, query parameter or body (`invalid_path`, `invalid_parameter`, `malformed_body`)",
                );
            }
            if body {
                add("413", "The body is over 64 KiB (`body_too_large`)");
                add(
                    "415",
                    "The body is not `application/json` (`unsupported_media_type`)",
                );
            }
            if path.starts_with("/v1/") {
                add(
                    "429",
                    "Too many requests from this client (`rate_limited`); retry after `Retry-After` seconds",
                );
                add(
                    "503",
                    "The database did not answer in time (`unavailable`); retry after `Retry-After` seconds",
                );
            }
            for status in ["429", "503"] {
                if let Some(RefOr::T(response)) = responses.get_mut(status) {
                    response
                        .headers
                        .entry("Retry-After".to_owned())
                        .or_insert_with(|| retry_after().into());
                }
            }
        }
    }
}

/// A problem+json response; 429 and 503 carry `Retry-After`.
fn problem_response(status: &str, description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let mut response = ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    if status == "429" || status == "503" {
        response = response.header("Retry-After", retry_after());
    }
    response.build()
}

fn retry_after() -> utoipa::openapi::header::Header {
    use utoipa::openapi::{ObjectBuilder, Type, header::HeaderBuilder};
    HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        ))
        .description(Some("Seconds to wait before retrying"))
        .build()
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.route("/openapi.json", web::get().to(openapi_json));
}

/// This document.
async fn openapi_json(document: web::Data<String>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.get_ref().clone())
}
