//! REST door to the personal data export (GDPR Art. 15): `GET /v1/me/export` for the
//! signed-in person, `GET /v1/admin/accounts/{id}/export` for admins. Both stream
//! NDJSON as the domain reads it, a batch at a time.

use actix_web::{HttpResponse, get, web};
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::export_lines::ExportLine;
use crate::auth::Authenticated;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Export my data
///
/// Everything the portal holds about the caller, as NDJSON (one `ExportLine` per
/// line): the account and profile, each conversation with its members and read
/// markers followed by its messages (the caller's own with every earlier body), push
/// devices (never their keys), who else read the caller's data, and staff actions on
/// the account. The last line is `end`: a stream without it was cut short. Streamed
/// in batches, so memory stays flat whatever the history holds.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The export, one JSON `ExportLine` per line", body = super::streams::PersonalExport, content_type = "application/x-ndjson"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access log could not record the export", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/me/export")]
pub async fn export_mine(
    Authenticated(actor): Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let lines = state.privacy.export(&actor, actor.account_id).await?;
    Ok(ndjson::<_, ExportLine>(lines))
}

/// Export a person's data
///
/// What `GET /v1/me/export` gives the person, for an admin answering their request
/// (admins only). The export is recorded in the person's access log.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    responses(
        (status = 200, description = "The export, one JSON `ExportLine` per line", body = super::streams::PersonalExport, content_type = "application/x-ndjson"),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The access log could not record the export", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/admin/accounts/{id}/export")]
pub async fn export_account(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let lines = state.privacy.export(&actor, id.into_inner()).await?;
    Ok(ndjson::<_, ExportLine>(lines))
}

/// A streamed NDJSON answer: each batch of domain items written as lines of their
/// view `L` (this export's and the directory export's).
pub(super) fn ndjson<T, L: serde::Serialize + From<T>>(
    batches: impl Stream<Item = Result<Vec<T>, domain::DomainError>> + 'static,
) -> HttpResponse {
    let body = batches.map(|batch| {
        let batch = batch.map_err(ApiError::from)?;
        let mut lines = Vec::with_capacity(batch.len() * 256);
        for item in batch {
            serde_json::to_writer(&mut lines, &L::from(item))
                .map_err(|_| ApiError::from(domain::DomainError::Unavailable))?;
            lines.push(b'\n');
        }
        Ok::<_, ApiError>(web::Bytes::from(lines))
    });
    super::validators::uncompressed(&mut HttpResponse::Ok())
        .content_type("application/x-ndjson")
        .streaming(body)
}
