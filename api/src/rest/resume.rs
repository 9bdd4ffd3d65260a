//! The event stream and the change feed: what a reconnecting stream missed is
//! replayed from the feed, and live changes go out in feed order, each with the token
//! of its position as its `id`, so the last id a client got is always a safe place
//! to resume from.

use domain::actor::Actor;
use domain::chat::{FeedCursor, Resumption};
use domain::events::Delivery;

use super::streams::{EmptyEventData, LimitedData, ServerSentEvent};
use crate::problem::ApiError;
use crate::state::AppState;

/// What a reconnecting stream sends before it goes live (the rule is
/// `ChatService::resume`'s), whether it ends there (`limited`: the client pages on
/// through `GET /v1/sync`), and the cursor live delivery goes on from.
pub(super) struct Replay {
    pub frames: Vec<String>,
    pub limited: bool,
    pub feed: FeedCursor,
}

pub(super) async fn replay(
    state: &AppState,
    actor: &Actor,
    last_event_id: Option<&str>,
) -> Result<Replay, ApiError> {
    let Resumption {
        changes,
        limited,
        reload,
        cursor,
    } = state.chat.resume(actor, last_event_id).await?;
    let mut frames: Vec<String> = changes
        .into_iter()
        .map(|change| {
            let id = cursor.token(change.position);
            ServerSentEvent::of_change(change).frame_with_id(Some(&id))
        })
        .collect();
    // The new id replaces the stale one in the client.
    if let Some(next) = reload {
        frames.push(ServerSentEvent::Resync(EmptyEventData {}).frame_with_id(Some(&next)));
    }
    if let Some(next) = limited.clone() {
        frames.push(ServerSentEvent::Limited(LimitedData { next }).frame());
    }
    Ok(Replay {
        frames,
        limited: limited.is_some(),
        feed: cursor,
    })
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
