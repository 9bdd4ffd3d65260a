//! The streamed bodies of the REST API: the frames of `GET /v1/events`, one type per
//! event, serialised to write the frame and documented by the same derive (so the
//! OpenAPI schema is what is sent), and the NDJSON export's documented shape.

use domain::accounts::SessionEnd;
use domain::chat::{Change, Changed};
use domain::events::Event;
use serde::Serialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::export_lines::ExportLine;
use super::realtime::AccountPresence;
use crate::shutdown::RECONNECT_AFTER_MS;
use crate::views::{self, PresenceStatus};

/// `data` of `message_created` and `message_edited`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageEventData {
    pub conversation_id: Uuid,
    pub message: views::Message,
}

/// `data` of `message_deleted`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDeletedData {
    pub conversation_id: Uuid,
    pub seq: i64,
}

/// `data` of `read_marker`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadMarkerData {
    pub conversation_id: Uuid,
    pub account_id: Uuid,
    /// The newest seq the member has read.
    pub seq: i64,
}

/// `data` of `conversation_started`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationStartedData {
    pub conversation_id: Uuid,
}

/// `data` of `notifications`: the caller's mute switch on a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationsData {
    pub conversation_id: Uuid,
    pub muted: bool,
}

/// `data` of `typing`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypingData {
    pub conversation_id: Uuid,
    pub account_id: Uuid,
    /// False when they stopped, or when a `true` lapsed after 6 s without renewal.
    pub typing: bool,
}

/// `data` of `limited`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitedData {
    /// Page on with `GET /v1/sync?since=<next>`, then reconnect with the last
    /// position's token as `Last-Event-ID`.
    pub next: String,
}

/// `data` of `resync` and `reconnect`: `{}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmptyEventData {}

/// Why a stream ended for its credentials.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReauthenticateReason {
    /// The access token expired: refresh it and reconnect.
    Expired,
    /// The sign-in ended or the account was disabled: sign in again.
    Revoked,
}

/// `data` of `reauthenticate`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReauthenticateData {
    pub reason: ReauthenticateReason,
}

/// One frame of the event stream: `event` is its SSE event name, `data` its JSON.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum ServerSentEvent {
    /// A new message.
    #[schema(title = "MessageCreatedEvent")]
    MessageCreated(MessageEventData),
    /// An edited message.
    #[schema(title = "MessageEditedEvent")]
    MessageEdited(MessageEventData),
    /// A message became a tombstone.
    #[schema(title = "MessageDeletedEvent")]
    MessageDeleted(MessageDeletedData),
    /// A member's read marker moved.
    #[schema(title = "ReadMarkerEvent")]
    ReadMarker(ReadMarkerData),
    /// A conversation was started with the caller: load it.
    #[schema(title = "ConversationStartedEvent")]
    ConversationStarted(ConversationStartedData),
    /// The caller muted or unmuted a conversation (on any of their devices).
    #[schema(title = "NotificationsEvent")]
    Notifications(NotificationsData),
    /// Another member started or stopped typing (never stored: no `id`).
    #[schema(title = "TypingEvent")]
    Typing(TypingData),
    /// A contact's presence changed.
    #[schema(title = "PresenceEvent")]
    Presence(AccountPresence),
    /// The replay after `Last-Event-ID` was longer than a page and the stream ends:
    /// page on through `GET /v1/sync` from `next`, then reconnect.
    #[schema(title = "LimitedEvent")]
    Limited(LimitedData),
    /// The client fell too far behind and the stream ends; or (with an `id`) its
    /// `Last-Event-ID` is no longer valid and the stream goes on from now: reload,
    /// then apply what follows.
    #[schema(title = "ResyncEvent")]
    Resync(EmptyEventData),
    /// The node stops and the stream ends: reconnect after the frame's `retry:` delay,
    /// with `Last-Event-ID`.
    #[schema(title = "ReconnectEvent")]
    Reconnect(EmptyEventData),
    /// The credentials ended; nothing follows.
    #[schema(title = "ReauthenticateEvent")]
    Reauthenticate(ReauthenticateData),
}

impl ServerSentEvent {
    /// The frame for a hub event; `None` for events clients never see.
    pub fn of(event: &Event) -> Option<Self> {
        Some(match event {
            Event::MessageCreated { message } => {
                Self::message_created(message.conversation_id, message.clone().into())
            }
            Event::MessageEdited { message } => Self::MessageEdited(MessageEventData {
                conversation_id: message.conversation_id,
                message: message.clone().into(),
            }),
            Event::MessageDeleted {
                conversation_id,
                seq,
            } => Self::MessageDeleted(MessageDeletedData {
                conversation_id: *conversation_id,
                seq: *seq,
            }),
            Event::ReadMarker {
                conversation_id,
                account_id,
                seq,
            } => Self::ReadMarker(ReadMarkerData {
                conversation_id: *conversation_id,
                account_id: *account_id,
                seq: *seq,
            }),
            Event::Presence { account_id, status } => Self::Presence(AccountPresence {
                account_id: *account_id,
                status: PresenceStatus::from(*status),
            }),
            Event::ConversationStarted { conversation_id } => {
                Self::ConversationStarted(ConversationStartedData {
                    conversation_id: *conversation_id,
                })
            }
            Event::NotificationsChanged {
                conversation_id,
                muted,
            } => Self::Notifications(NotificationsData {
                conversation_id: *conversation_id,
                muted: *muted,
            }),
            Event::Typing {
                conversation_id,
                account_id,
                typing,
            } => Self::Typing(TypingData {
                conversation_id: *conversation_id,
                account_id: *account_id,
                typing: *typing,
            }),
            Event::MembershipChanged { .. } => return None,
        })
    }

    /// The frame for a change replayed from the caller's feed, as its live event
    /// would have been (a message as it is now: created, edited or deleted).
    pub fn of_change(change: Change) -> Self {
        let conversation_id = change.conversation_id;
        match change.what {
            Changed::Message(message) if message.deleted => {
                Self::MessageDeleted(MessageDeletedData {
                    conversation_id,
                    seq: message.seq,
                })
            }
            Changed::Message(message) if message.edited_at.is_some() => {
                Self::MessageEdited(MessageEventData {
                    conversation_id,
                    message: message.into(),
                })
            }
            Changed::Message(message) => Self::message_created(conversation_id, message.into()),
            Changed::ReadMarker { account_id, seq } => Self::ReadMarker(ReadMarkerData {
                conversation_id,
                account_id,
                seq,
            }),
            Changed::Conversation(_) => {
                Self::ConversationStarted(ConversationStartedData { conversation_id })
            }
            Changed::Notifications { muted } => Self::Notifications(NotificationsData {
                conversation_id,
                muted,
            }),
        }
    }

    pub fn message_created(conversation_id: Uuid, message: views::Message) -> Self {
        Self::MessageCreated(MessageEventData {
            conversation_id,
            message,
        })
    }

    pub fn reauthenticate(end: SessionEnd) -> Self {
        let reason = match end {
            SessionEnd::Expired => ReauthenticateReason::Expired,
            SessionEnd::Revoked => ReauthenticateReason::Revoked,
        };
        Self::Reauthenticate(ReauthenticateData { reason })
    }

    /// The text of the frame: `retry:` before a reconnect, then `event:` and `data:`.
    pub fn frame(&self) -> String {
        self.frame_with_id(None)
    }

    /// The frame with `id:` set to `id` (on a change: the token of its position in
    /// the caller's feed, which a reconnect sends back as `Last-Event-ID`).
    pub fn frame_with_id(&self, id: Option<&str>) -> String {
        let mut frame = String::new();
        if let Some(id) = id {
            frame.push_str(&format!("id: {id}\n"));
        }
        if let Self::Reconnect(_) = self {
            frame.push_str(&format!("retry: {RECONNECT_AFTER_MS}\n"));
        }
        let tagged = serde_json::to_value(self).expect("frames serialise");
        let name = tagged["event"].as_str().expect("a tagged frame");
        frame.push_str(&format!("event: {name}\ndata: {}\n\n", tagged["data"]));
        frame
    }
}

/// Documents a text body whose content is a sequence of `item`s, so that generators
/// hand it over as text instead of parsing it as one JSON value.
fn text_sequence(media_type: &str, item: &str, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .content_media_type(media_type)
        .content_schema(Some(ArrayBuilder::new().items(Ref::from_schema_name(item))))
        .into()
}

/// The body of `GET /v1/events`.
pub struct EventStream;

impl PartialSchema for EventStream {
    fn schema() -> RefOr<Schema> {
        text_sequence(
            "text/event-stream",
            &ServerSentEvent::name(),
            "Server-Sent Events: frames of `event:` (the name), `data:` (one line of JSON) \
             and, on every change of the caller's feed (messages, read markers, \
             conversations started, mute switches), `id: <token>`, an opaque token of \
             its position (send it back as `Last-Event-ID`, or as `since` to \
             `GET /v1/sync`); `reconnect` comes after `retry: <ms>`. Lines starting with \
             `:` are keep-alive comments. Each frame is a `ServerSentEvent`.",
        )
    }
}

impl ToSchema for EventStream {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ServerSentEvent::name().into(), ServerSentEvent::schema()));
        <ServerSentEvent as ToSchema>::schemas(schemas);
    }
}

/// The body of the directory export.
pub struct TherapistExport;

impl PartialSchema for TherapistExport {
    fn schema() -> RefOr<Schema> {
        text_sequence(
            "application/x-ndjson",
            &views::Therapist::name(),
            "Newline-delimited JSON: one `TherapistDto` per line, each ended by `\\n`.",
        )
    }
}

impl ToSchema for TherapistExport {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((views::Therapist::name().into(), views::Therapist::schema()));
        <views::Therapist as ToSchema>::schemas(schemas);
    }
}

/// The body of a personal data export.
pub struct PersonalExport;

impl PartialSchema for PersonalExport {
    fn schema() -> RefOr<Schema> {
        text_sequence(
            "application/x-ndjson",
            &ExportLine::name(),
            "Newline-delimited JSON: one `ExportLine` per line, each ended by `\\n`; the \
             last is `end`.",
        )
    }
}

impl ToSchema for PersonalExport {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ExportLine::name().into(), ExportLine::schema()));
        <ExportLine as ToSchema>::schemas(schemas);
    }
}
