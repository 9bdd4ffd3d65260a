//! Liveness and readiness for orchestrators and load balancers.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};

use crate::codes;
use crate::problem::Problem;
use crate::state::AppState;

/// Body of a healthy `/healthz` or `/readyz` answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct HealthStatus {
    /// `ok` (alive) or `ready` (the database answers).
    #[schema(example = "ok")]
    pub status: &'static str,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(healthz).service(readyz);
}

/// Liveness probe
///
/// Alive: 200 while the process can answer at all. Needs no token.
#[utoipa::path(
    tag = "operations",
    security(),
    responses((status = 200, description = "The process is alive", body = HealthStatus))
)]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// Readiness probe
///
/// Ready: 200 when the database answers; 503 (with `Retry-After`) while it does not or
/// once the node has begun to stop, so that a load balancer routes elsewhere. Needs no
/// token.
#[utoipa::path(
    tag = "operations",
    security(),
    responses(
        (status = 200, description = "The database answers", body = HealthStatus),
        (status = 503, description = "The database does not answer, or the node is stopping",
         body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.shutdown.is_stopping() {
        return Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UNAVAILABLE,
            Some("this node is stopping".to_owned()),
        )
        .response();
    }
    match state.storage.ping().await {
        Ok(()) => HttpResponse::Ok().json(HealthStatus { status: "ready" }),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::UNAVAILABLE,
                Some("the database does not answer".to_owned()),
            )
            .response()
        }
    }
}
