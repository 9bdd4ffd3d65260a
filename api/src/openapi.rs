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
        description = "REST door of the therapist portal. Errors are RFC 9457 problem details with a stable `code`."
    ),
    tags(
        (name = "auth", description = "Sign-up, sign-in and the caller's account"),
        (name = "directory", description = "Find therapists"),
        (name = "chat", description = "Conversations and messages"),
        (name = "realtime", description = "Presence and the event stream"),
        (name = "admin", description = "Support tools: accounts, therapist profiles, audit log, export"),
        (name = "operations", description = "Health and readiness"),
    )
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

/// The whole document as pretty JSON, exactly as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let (_, paths) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::health::configure)
        .service(utoipa_actix_web::scope("/v1").configure(crate::rest::configure))
        .split_for_parts();
    paths
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
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
