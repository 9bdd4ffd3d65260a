//! REST door to chat: conversations, history windows, sending, editing, deleting and
//! read markers. Membership, seq assignment and idempotency live in `domain::chat`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use domain::chat::{WindowArgs, WindowRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::paging::PageQuery;
use super::paging::{Paged, paged_response, rest_page};
use crate::auth::Authenticated;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views;

/// Body of `POST /v1/conversations`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StartConversationRequest {
    /// The other members; a therapist who starts a conversation is a member too.
    /// A conversation has 2 to 20 members, at least one client and one therapist.
    #[schema(min_items = 1, max_items = 20)]
    pub member_ids: Vec<Uuid>,
}

/// Body of `POST /v1/conversations/{id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendMessageRequest {
    /// 1 to 10,000 characters, not only white space.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
    /// Chosen by the client, unique per conversation and sender: a retry with the same
    /// id returns the stored message instead of sending twice. 1 to 64 printable ASCII
    /// characters.
    #[schema(min_length = 1, max_length = 64, pattern = "^[!-~]+$")]
    pub client_msg_id: String,
}

/// Body of `PATCH /v1/conversations/{id}/messages/{seq}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditMessageRequest {
    /// 1 to 10,000 characters, not only white space.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
}

/// Body of `POST /v1/conversations/{id}/read`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MarkReadRequest {
    /// The newest seq read; a lower one than before leaves the marker where it is.
    #[schema(minimum = 0)]
    #[serde(deserialize_with = "whole_number")]
    pub seq: i64,
}

/// An integer, also when written `2.0`: JSON Schema counts that as an integer, so
/// generated clients may send it.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(d)?;
    if let Some(whole) = number.as_i64() {
        return Ok(whole);
    }
    number
        .as_f64()
        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
        .map(|f| f as i64)
        .ok_or_else(|| serde::de::Error::custom(format!("{number} is not an integer")))
}

/// The caller's read marker.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadMarkerDto {
    pub last_read_seq: i64,
}

/// Query of `GET /v1/conversations/{id}/messages`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// Window size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Messages before this seq.
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Messages after this seq.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// This message and its neighbours. Not with `before` or `after`.
    #[param(minimum = 1)]
    pub around: Option<i64>,
    /// With `around`: messages before it (default: half of `limit`).
    #[param(minimum = 0, maximum = 99)]
    pub older: Option<i64>,
    /// With `around`: messages after it (default: the rest of `limit`).
    #[param(minimum = 0, maximum = 99)]
    pub newer: Option<i64>,
}

/// Path of one message.
type MessagePath = web::Path<(Uuid, i64)>;

/// Start a conversation
///
/// Start a conversation with the given members (therapists, support and admins).
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    request_body = StartConversationRequest,
    responses(
        (status = 201, description = "The conversation", body = views::Conversation),
        (status = 403, description = "Clients cannot start conversations", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad member list", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/conversations")]
pub async fn start_conversation(
    Authenticated(actor): Authenticated,
    body: web::Json<StartConversationRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let conversation = state
        .chat
        .start(&actor, body.into_inner().member_ids)
        .await?;
    Ok(HttpResponse::Created().json(views::Conversation::from(conversation)))
}

/// List the caller's conversations
///
/// The caller's conversations, most recently active first, with unread counts and a
/// preview of the newest message.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of conversations", body = Paged<views::Conversation>),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`"),
        (status = 400, description = "Bad cursor or page size", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/conversations")]
pub async fn list_conversations(
    request: HttpRequest,
    Authenticated(actor): Authenticated,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = rest_page(query.limit, query.after, query.before);
    let page = state.chat.list(&actor, page).await?;
    Ok(paged_response(
        &request,
        page.map(views::Conversation::from),
    ))
}

/// Get a conversation
///
/// One conversation's metadata. Non-members get 404.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation", body = views::Conversation),
        (status = 404, description = "No such conversation, or not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/conversations/{id}")]
pub async fn get_conversation(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::Conversation>, ApiError> {
    Ok(web::Json(state.chat.get(&actor, *id).await?.into()))
}

/// Read a window of history
///
/// A window of history: the newest `limit` messages, or those `before` or `after` a
/// seq, or `around` one. Its cost does not depend on the length of the conversation.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id"), WindowQuery),
    responses(
        (status = 200, description = "The window", body = views::MessageWindow),
        (status = 400, description = "Two anchors, a bad seq or limit", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Support staff never read messages", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation, or not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/conversations/{id}/messages")]
pub async fn list_messages(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    query: web::Query<WindowQuery>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::MessageWindow>, ApiError> {
    let q = query.into_inner();
    let request = WindowRequest::new(WindowArgs {
        limit: q.limit,
        before: q.before,
        after: q.after,
        around: q.around,
        older: q.older,
        newer: q.newer,
    })?;
    Ok(web::Json(
        state.chat.window(&actor, *id, request).await?.into(),
    ))
}

/// Send a message
///
/// Send a message. Idempotent by `client_msg_id`: 201 when stored now, 200 with the
/// stored message for a retry, 422 when the id was used for another body.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id")),
    request_body = SendMessageRequest,
    responses(
        (status = 201, description = "Stored", body = views::Message),
        (status = 200, description = "A retry: the message stored earlier", body = views::Message),
        (status = 404, description = "No such conversation, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad body or reused `client_msg_id` (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/conversations/{id}/messages")]
pub async fn send_message(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    body: web::Json<SendMessageRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let sent = state
        .chat
        .send(&actor, *id, &body.client_msg_id, body.body)
        .await?;
    let mut response = if sent.created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(views::Message::from(sent.message)))
}

/// Edit a message
///
/// Edit one of the caller's messages; history shows the latest body.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id"), ("seq" = i64, Path, minimum = 1, description = "Message seq")),
    request_body = EditMessageRequest,
    responses(
        (status = 200, description = "The edited message", body = views::Message),
        (status = 403, description = "Not the sender", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such message", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The message is deleted", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long body (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/conversations/{id}/messages/{seq}")]
pub async fn edit_message(
    Authenticated(actor): Authenticated,
    path: MessagePath,
    body: web::Json<EditMessageRequest>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::Message>, ApiError> {
    let (id, seq) = path.into_inner();
    let message = state
        .chat
        .edit(&actor, id, seq, body.into_inner().body)
        .await?;
    Ok(web::Json(message.into()))
}

/// Delete a message
///
/// Delete one of the caller's messages: it stays as a tombstone in its seq.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id"), ("seq" = i64, Path, minimum = 1, description = "Message seq")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not the sender", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such message", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/conversations/{id}/messages/{seq}")]
pub async fn delete_message(
    Authenticated(actor): Authenticated,
    path: MessagePath,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, seq) = path.into_inner();
    state.chat.delete(&actor, id, seq).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Move the read marker
///
/// Move the caller's read marker forward (never back).
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id")),
    request_body = MarkReadRequest,
    responses(
        (status = 200, description = "The read marker now", body = ReadMarkerDto),
        (status = 404, description = "No such conversation, or not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/conversations/{id}/read")]
pub async fn mark_read(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    body: web::Json<MarkReadRequest>,
    state: web::Data<AppState>,
) -> Result<web::Json<ReadMarkerDto>, ApiError> {
    let last_read_seq = state.chat.mark_read(&actor, *id, body.seq).await?;
    Ok(web::Json(ReadMarkerDto { last_read_seq }))
}
