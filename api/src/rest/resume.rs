//! The event stream and the change feed: what a reconnecting stream missed is
//! replayed from the feed, and live changes go out in feed order, each with the token
//! of its position as its `id`, so the last id a client got is always a safe place
//! to resume from.

use domain::DomainError;
use domain::actor::Actor;
use domain::chat::{ChatService, FeedCursor, SyncPage};
use domain::events::Delivery;

use super::streams::{EmptyEventData, LimitedData, ServerSentEvent};
use crate::problem::ApiError;
use crate::state::AppState;

/// Changes read from the feed at once, on a reconnect or to fill a gap.
const PAGE: i64 = ChatService::SYNC_PAGE.max as i64;

/// What a reconnecting stream missed: the frames of the changes after its
/// `Last-Event-ID`, the feed position they reach, and whether the stream must end
/// after them (`limited`: the client pages on through `GET /v1/sync`).
pub(super) struct Replay {
    pub frames: Vec<String>,
    pub reached: i64,
    pub limited: bool,
}

pub(super) async fn replay(
    state: &AppState,
    actor: &Actor,
    last_event_id: Option<&str>,
) -> Result<Replay, ApiError> {
    let Some(token) = last_event_id else {
        let now = state.chat.sync(actor, None, None).await?;
        return Ok(Replay {
            frames: Vec::new(),
            reached: now.position,
            limited: false,
        });
    };
    match state.chat.sync(actor, Some(token), Some(PAGE)).await {
        Ok(page) => {
            let (reached, limited) = (page.position, page.limited);
            let next = page.next.clone();
            let mut frames = change_frames(&state.chat, actor, page);
            if limited {
                frames.push(ServerSentEvent::Limited(LimitedData { next }).frame());
            }
            Ok(Replay {
                frames,
                reached,
                limited,
            })
        }
        // Too old, tampered or of another account: reload, then go on from now; the
        // new id replaces the stale one in the client.
        Err(DomainError::InvalidSyncToken) => {
            let now = state.chat.sync(actor, None, None).await?;
            let resync = ServerSentEvent::Resync(EmptyEventData {}).frame_with_id(Some(&now.next));
            Ok(Replay {
                frames: vec![resync],
                reached: now.position,
                limited: false,
            })
        }
        Err(other) => Err(other.into()),
    }
}

/// The frames of a page of changes, each with its position's token as its id.
fn change_frames(chat: &ChatService, actor: &Actor, page: SyncPage) -> Vec<String> {
    page.changes
        .into_iter()
        .map(|change| {
            let id = chat.sync_token(actor, change.position);
            ServerSentEvent::of_change(change).frame_with_id(Some(&id))
        })
        .collect()
}

/// The frames for one live delivery: changes in feed order with their ids (see
/// `domain::chat::FeedCursor`), presence without an id.
pub(super) async fn frames_of(feed: FeedCursor, delivery: Delivery) -> String {
    let (event, position) = match delivery {
        Delivery::Event(event, position) => (event, position),
        Delivery::Resync => return ServerSentEvent::Resync(EmptyEventData {}).frame(),
    };
    let Some(position) = position else {
        return ServerSentEvent::of(&event)
            .map(|frame| frame.frame())
            .unwrap_or_default();
    };
    match feed.changes_for(&event, position).await {
        Ok(changes) => changes
            .into_iter()
            .map(|change| {
                let id = feed.token(change.position);
                ServerSentEvent::of_change(change).frame_with_id(Some(&id))
            })
            .collect(),
        // The feed cannot be read now: the client reloads from its last id.
        Err(err) => {
            tracing::warn!(error = %err, "a stream's gap could not be filled from the feed");
            ServerSentEvent::Resync(EmptyEventData {}).frame()
        }
    }
}
