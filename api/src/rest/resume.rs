//! The event stream and the change feed: what a reconnecting stream missed is
//! replayed from the feed, and live changes go out in feed order, each with the token
//! of its position as its `id`. Changes reach a node out of order (two sends commit
//! in one order and publish in the other; two nodes publish independently), so a
//! change that arrives ahead of one not yet sent brings the ones between it from the
//! feed first: the ids a client sees are consecutive positions, and the last one it
//! got is always a safe place to resume from.

use std::cell::Cell;
use std::rc::Rc;

use domain::DomainError;
use domain::actor::Actor;
use domain::chat::{ChatService, SyncPage};
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

/// Where one stream is in its reader's feed: the last position it sent.
#[derive(Clone)]
pub(super) struct FeedCursor {
    chat: ChatService,
    reader: Actor,
    sent: Rc<Cell<i64>>,
}

impl FeedCursor {
    pub(super) fn new(chat: ChatService, reader: Actor, sent: i64) -> Self {
        Self {
            chat,
            reader,
            sent: Rc::new(Cell::new(sent)),
        }
    }

    /// The frames for one delivery: none for a change already sent, the change itself
    /// when it is the next one, and the changes up to it from the feed when it came
    /// ahead of others.
    pub(super) async fn frames_of(self, delivery: Delivery) -> String {
        let (event, position) = match delivery {
            Delivery::Event(event, position) => (event, position),
            Delivery::Resync => return ServerSentEvent::Resync(EmptyEventData {}).frame(),
        };
        let Some(position) = position else {
            // Not a change (presence): no place in the feed, no id.
            return ServerSentEvent::of(&event)
                .map(|frame| frame.frame())
                .unwrap_or_default();
        };
        let sent = self.sent.get();
        if position <= sent {
            return String::new();
        }
        if position == sent + 1 {
            self.sent.set(position);
            let id = self.chat.sync_token(&self.reader, position);
            return ServerSentEvent::of(&event)
                .map(|frame| frame.frame_with_id(Some(&id)))
                .unwrap_or_default();
        }
        let since = self.chat.sync_token(&self.reader, sent);
        match self.chat.sync(&self.reader, Some(&since), Some(PAGE)).await {
            Ok(page) => {
                self.sent.set(page.position);
                change_frames(&self.chat, &self.reader, page).concat()
            }
            // The feed cannot be read now: the client reloads from its last id.
            Err(err) => {
                tracing::warn!(error = %err, "a stream's gap could not be filled from the feed");
                ServerSentEvent::Resync(EmptyEventData {}).frame()
            }
        }
    }
}
