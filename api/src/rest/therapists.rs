//! REST door to the therapist directory. The rules (filters, order, page size, cursor
//! checks) live in `domain::directory`; this file only translates.

use actix_web::{HttpRequest, HttpResponse, get, web};
use domain::directory::{Mode, TherapistFilter, TherapistOrder};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::paging::{Paged, paged_response, rest_page};
use super::validators::json_with_etag;
use crate::auth::Authenticated;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views;
pub use crate::views::{AcceptingStatus, MeetingMode};

/// Directory order.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortParam {
    /// By name, A to Z.
    #[default]
    Name,
    /// Newest profiles first.
    Newest,
}

/// Query of `GET /v1/therapists`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTherapistsQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Cursor: the page after this one (`page.next_cursor`).
    pub after: Option<String>,
    /// Cursor: the page before this one (`page.prev_cursor`). Not with `after`.
    pub before: Option<String>,
    /// Order (default `name`).
    pub sort: Option<SortParam>,
    /// Specialty code, e.g. `anxiety`.
    #[param(min_length = 1, max_length = 64)]
    pub specialty: Option<String>,
    /// ISO 639-1 language code, e.g. `de`.
    #[param(min_length = 1, max_length = 64)]
    pub language: Option<String>,
    /// City, case-insensitive.
    #[param(min_length = 1, max_length = 100)]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[param(min_length = 2, max_length = 2)]
    pub country: Option<String>,
    /// Organisation id.
    pub organisation: Option<Uuid>,
    /// Whether the therapist takes new clients.
    pub accepting: Option<AcceptingStatus>,
    /// How the client wants to meet.
    pub mode: Option<MeetingMode>,
    /// Case-insensitive prefix of the name.
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
}

/// List therapists
///
/// List therapists, one page at a time, in the requested order. Every therapist is
/// reachable by following `next_cursor`; there is no cap.
#[utoipa::path(
    tag = "directory",
    security(("bearer" = [])),
    params(ListTherapistsQuery),
    responses(
        (status = 200, description = "One page of therapists", body = Paged<views::Therapist>,
         headers(("Link" = String, description = "RFC 8288 links: rel=\"next\", rel=\"prev\""))),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`"),
        (status = 400, description = "Bad filter, cursor or page size (`invalid_parameter`, `invalid_cursor`)",
         body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or invalid token (`unauthenticated`)",
         body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/therapists")]
pub async fn list_therapists(
    request: HttpRequest,
    Authenticated(actor): Authenticated,
    query: web::Query<ListTherapistsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = rest_page(query.limit, query.after, query.before);
    let order = match query.sort.unwrap_or_default() {
        SortParam::Name => TherapistOrder::Name,
        SortParam::Newest => TherapistOrder::Newest,
    };
    let filter = TherapistFilter {
        specialty: query.specialty,
        language: query.language,
        city: query.city,
        country: query.country,
        organisation: query.organisation,
        accepting: query.accepting.map(Into::into),
        mode: query.mode.map(|m| match m {
            MeetingMode::Online => Mode::Online,
            MeetingMode::InPerson => Mode::InPerson,
        }),
        q: query.q,
    };
    let page = state.directory.list(&actor, filter, order, page).await?;
    Ok(paged_response(&request, page.map(views::Therapist::from)))
}

/// Get a therapist
///
/// One therapist's public profile, with a strong `ETag`: `If-None-Match` naming the
/// current one is answered 304.
#[utoipa::path(
    tag = "directory",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Therapist id")),
    responses(
        (status = 200, description = "The therapist", body = views::Therapist),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`"),
        (status = 404, description = "No such therapist", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/therapists/{id}")]
pub async fn get_therapist(
    request: HttpRequest,
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let therapist = state.directory.get(&actor, id.into_inner()).await?;
    let view = views::Therapist::from(therapist);
    Ok(json_with_etag(&request, HttpResponse::Ok(), &view))
}
