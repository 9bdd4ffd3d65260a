//! GraphQL door to the change feed as a subscription: `changes(since)` replays what
//! followed `since` and goes on live, in feed order, as the SSE stream does (the
//! ordering lives in `domain::chat::FeedCursor`).

use async_graphql::{Context, Enum, Result, SimpleObject, Subscription};
use domain::chat::{Change, FeedCursor, Resumption};
use domain::events::Delivery;
use futures_util::{Stream, StreamExt, stream};

use super::{actor, graphql_error};
use crate::state::AppState;
use crate::views;

/// What a `changes` event is.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum FeedEventKind {
    /// A change of the caller's feed: `change` is it, `next` resumes after it.
    Change,
    /// The replay after `since` was longer than a page and the subscription ends:
    /// page on with `sync(since: next)`, then subscribe again.
    Limited,
    /// With `next`: `since` is no longer valid; reload, then apply what follows
    /// (`next` is where that is). Without: events may have been lost and the
    /// subscription ends; subscribe again with the last `next` received.
    Resync,
}

/// One event of `changes`.
#[derive(SimpleObject)]
pub struct FeedEvent {
    pub kind: FeedEventKind,
    /// Pass as `since` (here or to `sync`) to resume after this event.
    pub next: Option<String>,
    pub change: Option<views::SyncChange>,
}

impl FeedEvent {
    fn of_change(feed: &FeedCursor, change: Change) -> Self {
        Self {
            kind: FeedEventKind::Change,
            next: Some(feed.token(change.position)),
            change: Some(change.into()),
        }
    }

    fn marker(kind: FeedEventKind, next: Option<String>) -> Self {
        Self {
            kind,
            next,
            change: None,
        }
    }

    /// Whether the subscription ends with this event.
    fn is_last(&self) -> bool {
        self.kind == FeedEventKind::Limited
            || (self.kind == FeedEventKind::Resync && self.next.is_none())
    }
}

#[derive(Default)]
pub struct FeedSubscription;

#[Subscription]
impl FeedSubscription {
    /// Every change of the caller's feed after `since` (the `next` of `sync` or of
    /// the last event received), then live ones, in order, none missed and none
    /// twice; without `since`, from now. A replay longer than 500 changes ends with
    /// `LIMITED`. A `since` that is no longer valid starts with `RESYNC` carrying a
    /// fresh `next`.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        since: Option<String>,
    ) -> Result<impl Stream<Item = FeedEvent> + use<>> {
        let state = ctx.data::<AppState>()?;
        let reader = actor(ctx)?.clone();
        let subscriber = state.hub.subscribe(reader.account_id);
        let resumption = state
            .chat
            .resume(&reader, since.as_deref())
            .await
            .map_err(graphql_error)?;
        let feed = resumption.cursor.clone();
        let replayed = replayed_events(resumption);
        let live = subscriber
            .then(move |delivery| {
                let feed = feed.clone();
                async move { live_events(&feed, delivery).await }
            })
            .flat_map(stream::iter);
        Ok(stream::iter(replayed)
            .chain(live)
            .scan(false, |ended, event| {
                let send = (!*ended).then(|| {
                    *ended = event.is_last();
                    event
                });
                std::future::ready(send)
            }))
    }
}

/// The events a resumption sends before the live ones (the rule is
/// `ChatService::resume`'s).
fn replayed_events(resumption: Resumption) -> Vec<FeedEvent> {
    let feed = &resumption.cursor;
    let reload = resumption
        .reload
        .map(|next| FeedEvent::marker(FeedEventKind::Resync, Some(next)));
    let limited = resumption
        .limited
        .map(|next| FeedEvent::marker(FeedEventKind::Limited, Some(next)));
    resumption
        .changes
        .into_iter()
        .map(|change| FeedEvent::of_change(feed, change))
        .chain(reload)
        .chain(limited)
        .collect()
}

async fn live_events(feed: &FeedCursor, delivery: Delivery) -> Vec<FeedEvent> {
    match delivery {
        Delivery::Event(event, Some(position)) => match feed.changes_for(&event, position).await {
            Ok(changes) => changes
                .into_iter()
                .map(|change| FeedEvent::of_change(feed, change))
                .collect(),
            Err(err) => {
                tracing::warn!(error = %err, "a subscription's gap could not be filled from the feed");
                vec![FeedEvent::marker(FeedEventKind::Resync, None)]
            }
        },
        // Not a change (presence): not part of the feed.
        Delivery::Event(_, None) => Vec::new(),
        Delivery::Resync => vec![FeedEvent::marker(FeedEventKind::Resync, None)],
    }
}
