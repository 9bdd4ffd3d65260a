//! REST door to the access log: a client's own view, and the admins' search. What
//! is logged, and who may read what, is decided in `domain::access_log`.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use domain::access_log::AccessFilter;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::paging::{Paged, paged_response, rest_page};
use crate::auth::Authenticated;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views;

/// Query of `GET /v1/me/access-log`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyAccessLogQuery {
    /// Entries opened at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Entries opened at or before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// Query of `GET /v1/admin/access-log`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessLogQuery {
    /// Whose data was read.
    pub client: Option<Uuid>,
    /// Who read it.
    pub actor: Option<Uuid>,
    pub purpose: Option<views::AccessPurpose>,
    /// Entries opened at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Entries opened at or before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// Who read my data
///
/// Every read of the caller's data by someone else (their care team, support,
/// exports), newest first: who (name and role), when, what and why. Repeated reads
/// of one resource by one reader within a few minutes share an entry with a count.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(MyAccessLogQuery),
    responses(
        (status = 200, description = "One page of the access log", body = Paged<views::AccessEntry>),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`"),
        (status = 400, description = "`from` after `to`, or a bad instant, cursor or page size (`invalid_parameter`, `invalid_cursor`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/me/access-log")]
pub async fn my_access_log(
    request: HttpRequest,
    Authenticated(actor): Authenticated,
    query: web::Query<MyAccessLogQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = rest_page(query.limit, query.after, query.before);
    let page = state
        .access_log
        .mine(&actor, query.from, query.to, page)
        .await?;
    Ok(paged_response(&request, page.map(views::AccessEntry::from)))
}

/// Search the access log
///
/// Reads of clients' data, newest first (admins), by client, reader, purpose and
/// time.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(AccessLogQuery),
    responses(
        (status = 200, description = "One page of the access log", body = Paged<views::AccessEntry>),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`"),
        (status = 400, description = "`from` after `to`, or a bad filter, cursor or page size (`invalid_parameter`, `invalid_cursor`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/admin/access-log")]
pub async fn search_access_log(
    request: HttpRequest,
    Authenticated(actor): Authenticated,
    query: web::Query<AccessLogQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let filter = AccessFilter {
        client: query.client,
        actor: query.actor,
        purpose: query.purpose.map(Into::into),
        from: query.from,
        to: query.to,
    };
    let page = rest_page(query.limit, query.after, query.before);
    let page = state.access_log.search(&actor, filter, page).await?;
    Ok(paged_response(&request, page.map(views::AccessEntry::from)))
}
