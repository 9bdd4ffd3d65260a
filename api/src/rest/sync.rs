//! REST door to catch-up sync: what changed for the caller since a token.

use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Authenticated;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views;

/// Query of `GET /v1/sync`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// The `next` of the previous answer; absent: the current position, no changes.
    pub since: Option<String>,
    /// Changes in one answer, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Changes since a token
///
/// Every change the caller must learn about after `since`, in order: messages
/// created, edited or deleted (as they are now), read markers, conversations started
/// with the caller, their mute switches. `limited: true` says more follow: ask again
/// with `next`. Without `since`: the current position and no changes (load the
/// conversation list, then sync from there). A tampered, foreign or expired token is
/// a 400 `invalid_sync_token`: reload, then sync without `since`.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(SyncQuery),
    responses(
        (status = 200, description = "Changes after `since`", body = views::SyncPage),
        (status = 400, description = "`invalid_sync_token`, or `limit` out of range (`invalid_parameter`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/sync")]
pub async fn sync(
    Authenticated(actor): Authenticated,
    query: web::Query<SyncQuery>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::SyncPage>, ApiError> {
    let page = state
        .chat
        .sync(&actor, query.since.as_deref(), query.limit)
        .await?;
    Ok(web::Json(page.into()))
}
