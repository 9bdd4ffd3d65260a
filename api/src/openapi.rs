//! The OpenAPI document: collected from the `#[utoipa::path]` of every registered
//! route, served at `/openapi.json` and printed by `portal openapi`.

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Therapist portal API",
        description = "REST door of the therapist portal. Errors are RFC 9457 problem details with a stable `code`."
    ),
    tags(
        (name = "directory", description = "Find therapists"),
        (name = "operations", description = "Health and readiness"),
    )
)]
struct ApiDoc;

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
