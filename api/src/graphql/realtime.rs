//! GraphQL door to real time: subscriptions (over `/graphql/ws`, graphql-transport-ws)
//! to a conversation's message events and to contacts' presence, the `presence` query
//! and `setPresence`.

use async_graphql::{Context, Enum, Object, Result, SimpleObject, Subscription};
use domain::events::{Delivery, Event};
use std::sync::Arc;

use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::{actor, graphql_error};
use crate::state::AppState;
use crate::views;
use crate::views::PresenceStatus;

/// What happened in a conversation.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MessageEventKind {
    Created,
    Edited,
    Deleted,
    Read,
    /// Another member started or stopped typing (`typing`, `accountId`).
    Typing,
    /// The subscriber fell behind and the subscription ends: reload history from the
    /// last seq seen and subscribe again.
    Resync,
}

/// One event of a conversation.
#[derive(SimpleObject)]
pub struct MessageEvent {
    pub kind: MessageEventKind,
    pub conversation_id: Uuid,
    /// The message concerned (created, edited, deleted) or read up to.
    pub seq: Option<i64>,
    /// The message as it now is (created and edited).
    pub message: Option<views::Message>,
    /// Who read (read markers) or types.
    pub account_id: Option<Uuid>,
    /// Typing events: whether they type now.
    pub typing: Option<bool>,
}

impl MessageEvent {
    fn of(event: Event) -> Option<Self> {
        let conversation_id = event.conversation_id()?;
        let event = match event {
            Event::MessageCreated { message } => Self {
                kind: MessageEventKind::Created,
                conversation_id,
                seq: Some(message.seq),
                message: Some(message.into()),
                account_id: None,
                typing: None,
            },
            Event::MessageEdited { message } => Self {
                kind: MessageEventKind::Edited,
                conversation_id,
                seq: Some(message.seq),
                message: Some(message.into()),
                account_id: None,
                typing: None,
            },
            Event::MessageDeleted { seq, .. } => Self {
                kind: MessageEventKind::Deleted,
                conversation_id,
                seq: Some(seq),
                message: None,
                account_id: None,
                typing: None,
            },
            Event::ReadMarker {
                account_id, seq, ..
            } => Self {
                kind: MessageEventKind::Read,
                conversation_id,
                seq: Some(seq),
                message: None,
                account_id: Some(account_id),
                typing: None,
            },
            Event::Typing {
                account_id, typing, ..
            } => Self {
                kind: MessageEventKind::Typing,
                conversation_id,
                seq: None,
                message: None,
                account_id: Some(account_id),
                typing: Some(typing),
            },
            Event::Presence { .. }
            | Event::MembershipChanged { .. }
            | Event::ConversationStarted { .. }
            | Event::NotificationsChanged { .. } => return None,
        };
        Some(event)
    }
}

/// A contact's presence: what `presence` answers and `presenceChanged` sends.
#[derive(SimpleObject)]
pub struct PresenceChange {
    pub account_id: Uuid,
    pub status: PresenceStatus,
}

#[derive(Default)]
pub struct RealtimeQuery;

#[Object]
impl RealtimeQuery {
    /// Presence of the given accounts (at most 100); those that are not the caller's
    /// contacts (people sharing a conversation) are simply absent. No database work
    /// beyond the caller's contacts, loaded once per session.
    async fn presence(&self, ctx: &Context<'_>, ids: Vec<Uuid>) -> Result<Vec<PresenceChange>> {
        let state = ctx.data::<AppState>()?;
        let statuses = state
            .hub
            .statuses(actor(ctx)?.account_id, &ids)
            .await
            .map_err(graphql_error)?;
        Ok(statuses
            .into_iter()
            .map(|(account_id, status)| PresenceChange {
                account_id,
                status: status.into(),
            })
            .collect())
    }
}

#[derive(Default)]
pub struct RealtimeSubscription;

#[Subscription]
impl RealtimeSubscription {
    /// Events of one conversation, in seq order (members only). Ends after a
    /// `RESYNC` event when the subscriber falls too far behind.
    async fn message_events(
        &self,
        ctx: &Context<'_>,
        conversation_id: Uuid,
    ) -> Result<impl Stream<Item = MessageEvent> + use<>> {
        let state = ctx.data::<AppState>()?;
        let actor = actor(ctx)?;
        let subscriber = state.hub.subscribe(actor.account_id);
        state
            .chat
            .require_member(actor, conversation_id)
            .await
            .map_err(graphql_error)?;
        Ok(subscriber.filter_map(move |delivery| {
            std::future::ready(match delivery {
                Delivery::Event(event, _) if event.conversation_id() == Some(conversation_id) => {
                    MessageEvent::of(Arc::unwrap_or_clone(event))
                }
                Delivery::Event(..) => None,
                Delivery::Resync => Some(MessageEvent {
                    kind: MessageEventKind::Resync,
                    conversation_id,
                    seq: None,
                    message: None,
                    account_id: None,
                    typing: None,
                }),
            })
        }))
    }

    /// Presence changes of the caller's contacts. Ends when the subscriber falls
    /// too far behind: ask `presence(ids:)` again and resubscribe.
    async fn presence_changed(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = PresenceChange> + use<>> {
        let state = ctx.data::<AppState>()?;
        let subscriber = state.hub.subscribe(actor(ctx)?.account_id);
        Ok(subscriber.filter_map(|delivery| {
            std::future::ready(match delivery {
                Delivery::Event(event, _) => match *event {
                    Event::Presence { account_id, status } => Some(PresenceChange {
                        account_id,
                        status: status.into(),
                    }),
                    _ => None,
                },
                _ => None,
            })
        }))
    }
}

#[derive(Default)]
pub struct RealtimeMutation;

#[Object]
impl RealtimeMutation {
    /// Tell the other members of a conversation that the caller types (or stopped):
    /// never stored; a `true` lapses after 6 s unless renewed.
    async fn set_typing(
        &self,
        ctx: &Context<'_>,
        conversation_id: Uuid,
        typing: bool,
    ) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        state
            .chat
            .set_typing(actor(ctx)?, conversation_id, typing)
            .await
            .map_err(graphql_error)?;
        Ok(typing)
    }

    /// Set the caller's presence: no database work, reaches only online contacts.
    async fn set_presence(
        &self,
        ctx: &Context<'_>,
        status: PresenceStatus,
    ) -> Result<PresenceStatus> {
        let state = ctx.data::<AppState>()?;
        state.hub.set_status(actor(ctx)?.account_id, status.into());
        Ok(status)
    }
}
