//! REST door to real time: presence, and a Server-Sent-Events stream of the events of
//! the signed-in user, resumable with `Last-Event-ID`. Who sees what is decided in
//! `domain::events` and `domain::presence`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use domain::DomainError;
use futures_util::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::resume::{Replay, frames_of, replay};
use super::streams::{EmptyEventData, EventStream, ServerSentEvent};
use crate::auth::{Authenticated, SessionCredentials};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views::PresenceStatus;

/// A comment line this often keeps proxies from closing an idle stream, and lets the
/// server notice a client that went away (its session then ends).
const KEEPALIVE: Duration = Duration::from_secs(10);

/// Body of `PUT /v1/presence`, and one account's status.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PresenceBody {
    pub status: PresenceStatus,
}

/// An account's presence.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountPresence {
    pub account_id: Uuid,
    pub status: PresenceStatus,
}

/// Statuses of the asked-for accounts that are the caller's contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresenceList {
    pub items: Vec<AccountPresence>,
}

/// Query of `GET /v1/presence`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PresenceQuery {
    /// Comma-separated account ids, at most 100.
    pub ids: String,
}

/// Set the caller's presence
///
/// Set the caller's presence. Costs no database work; reaches only online contacts.
#[utoipa::path(
    tag = "realtime",
    security(("bearer" = [])),
    request_body = PresenceBody,
    responses((status = 200, description = "The status as set", body = PresenceBody)),
)]
#[put("/presence")]
pub async fn set_presence(
    Authenticated(actor): Authenticated,
    body: web::Json<PresenceBody>,
    state: web::Data<AppState>,
) -> HttpResponse {
    state.hub.set_status(actor.account_id, body.status.into());
    HttpResponse::Ok().json(PresenceBody {
        status: body.status,
    })
}

/// Body of `POST /v1/conversations/{id}/typing`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct TypingBody {
    pub typing: bool,
}

/// Say the caller types
///
/// Tell the other members that the caller types (or stopped). Never stored, no
/// database work once the conversation's members are known; a `true` lapses after
/// 6 s unless renewed, and at most one `true` a second is passed on.
#[utoipa::path(
    tag = "realtime",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id")),
    request_body = TypingBody,
    responses(
        (status = 204, description = "Passed on to the other members"),
        (status = 404, description = "No such conversation, or not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/conversations/{id}/typing")]
pub async fn set_typing(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    body: web::Json<TypingBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.chat.set_typing(&actor, *id, body.typing).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Get contacts' presence
///
/// Presence of the given accounts; those that are not the caller's contacts (people
/// sharing a conversation) are simply absent.
#[utoipa::path(
    tag = "realtime",
    security(("bearer" = [])),
    params(PresenceQuery),
    responses(
        (status = 200, description = "Statuses of contacts among `ids`", body = PresenceList),
        (status = 400, description = "Malformed ids", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/presence")]
pub async fn get_presence(
    Authenticated(actor): Authenticated,
    query: web::Query<PresenceQuery>,
    state: web::Data<AppState>,
) -> Result<web::Json<PresenceList>, ApiError> {
    let ids = query
        .ids
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<Uuid>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| DomainError::InvalidParameter {
            parameter: "ids",
            message: "must be comma-separated account ids".into(),
        })?;
    let statuses = state.hub.statuses(actor.account_id, &ids).await?;
    Ok(web::Json(PresenceList {
        items: statuses
            .into_iter()
            .map(|(account_id, status)| AccountPresence {
                account_id,
                status: status.into(),
            })
            .collect(),
    }))
}

/// Stream the caller's events (SSE)
///
/// The signed-in user's events as Server-Sent Events: new, edited and deleted
/// messages, read markers, conversations started with them, their mute switches and
/// contacts' presence. While the stream is open the user is online. Every change
/// carries `id:`, the token of its position in the user's change feed; with
/// `Last-Event-ID`, the changes after it are replayed from the feed first (as their
/// live frames, each message as it is now), then live changes follow with none
/// missed and none twice. A replay longer than 500 changes ends with `event: limited`
/// and the stream: page on through `GET /v1/sync`, then reconnect. A `Last-Event-ID`
/// that is no longer valid gets `event: resync` with a new `id:`: reload, then apply
/// what follows. A client that falls too far behind gets an `event: resync` and the
/// stream ends: reload from its last event id and reconnect. When
/// the node stops, the stream ends with `event: reconnect` (and a `retry:` delay):
/// reconnect, with `Last-Event-ID`, to reach another node. The stream lives only as
/// long as its token: at the token's expiry (plus the leeway), when the account is
/// disabled or the sign-in ends, it ends with `event: reauthenticate` (`reason`
/// `expired`: refresh the token; `revoked`: sign in again) and nothing after it.
#[utoipa::path(
    tag = "realtime",
    security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses(
        (status = 200, description = "An event stream of `ServerSentEvent` frames, until `resync`, `reconnect` or `reauthenticate`", content_type = "text/event-stream", body = EventStream),
        (status = 401, description = "No or invalid token", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/events")]
pub async fn events(
    request: HttpRequest,
    SessionCredentials(mut credentials): SessionCredentials,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    credentials.actor.door = domain::actor::Door::Sse;
    let actor = &credentials.actor;
    let subscriber = state.hub.subscribe(actor.account_id);
    let session = state.hub.connect(actor.account_id).await?;
    let last_event_id = request
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok());
    let Replay {
        frames,
        limited,
        feed,
    } = replay(&state, actor, last_event_id).await?;
    let live = subscriber.then(move |delivery| {
        // The session lives as long as the stream: the user stays online meanwhile.
        let _online = &session;
        frames_of(feed.clone(), delivery)
    });
    // `None` marks the end of the live stream (a resync): the response ends with it.
    let live = live.map(Some).chain(stream::once(std::future::ready(None)));
    let keepalive = stream::unfold(tokio::time::interval(KEEPALIVE), |mut tick| async move {
        tick.tick().await;
        Some((Some(": keepalive\n\n".to_owned()), tick))
    });
    // When the node stops: a reconnect hint, then the end of the stream.
    let stopping = stream::once(state.shutdown.started()).flat_map(|()| {
        let hint = ServerSentEvent::Reconnect(EmptyEventData {}).frame();
        stream::iter([Some(hint), None])
    });
    // When the credentials end: nothing more, then the reauthenticate frame.
    let ended = Rc::new(Cell::new(None));
    let session_end = state.accounts.session_end(&credentials);
    let mark_ended = ended.clone();
    let credentials_end = async move { mark_ended.set(Some(session_end.await)) };
    let last_word = stream::once(async move {
        ended
            .get()
            .map(|end| ServerSentEvent::reauthenticate(end).frame())
    });
    // `None` after a replay that ends `limited`: the client pages on, then returns.
    let mut replayed: Vec<Option<String>> = frames.into_iter().map(Some).collect();
    if limited {
        replayed.push(None);
    }
    let body = stream::iter(replayed)
        .chain(stream::select(stream::select(live, keepalive), stopping))
        .take_while(|frame| std::future::ready(frame.is_some()))
        .filter_map(|frame| std::future::ready(frame.filter(|f| !f.is_empty())))
        .take_until(credentials_end)
        .chain(last_word.filter_map(std::future::ready))
        .map(|frame| Ok::<_, actix_web::Error>(web::Bytes::from(frame)));
    Ok(super::validators::uncompressed(&mut HttpResponse::Ok())
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}
