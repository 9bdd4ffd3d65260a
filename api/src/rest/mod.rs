//! The REST door, under `/v1`: every route on one screen. Handlers translate HTTP into
//! domain calls and back; the rules live in `domain`.

mod paging;
mod therapists;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every `/v1` route.
pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(therapists::list_therapists)
        .service(therapists::get_therapist);
}
