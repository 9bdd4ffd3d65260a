//! GraphQL door to chat. Membership, seq assignment, idempotency and windows live in
//! `domain::chat`; a page of conversations comes with members and last messages from
//! one domain call (a fixed number of queries), so there is no N+1 to batch away.

use async_graphql::connection::EmptyFields;
use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use domain::chat::{Conversation, Member, Message, MessageWindow, WINDOW_LIMITS, WindowRequest};
use domain::page::LIST_LIMITS;
use uuid::Uuid;

use super::accounts::Role;
use super::admin::connection_page;
use super::connection::{Connection, connection_of};
use super::{actor, graphql_error};
use crate::state::AppState;

/// One message; a deleted one keeps its seq, sender and times, with no body.
#[derive(SimpleObject, Clone)]
#[graphql(name = "Message")]
pub struct MessageObject {
    /// Position in the conversation: 1, 2, 3, … with no gaps, in commit order.
    pub seq: i64,
    pub sender_id: Uuid,
    pub client_msg_id: String,
    /// The latest body; null when deleted.
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
}

impl From<Message> for MessageObject {
    fn from(m: Message) -> Self {
        Self {
            seq: m.seq,
            sender_id: m.sender_id,
            client_msg_id: m.client_msg_id,
            body: m.body,
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted: m.deleted,
        }
    }
}

/// A member of a conversation.
#[derive(SimpleObject, Clone)]
#[graphql(name = "ConversationMember")]
pub struct MemberObject {
    pub account_id: Uuid,
    pub display_name: String,
    pub role: Role,
    pub last_read_seq: i64,
}

impl From<Member> for MemberObject {
    fn from(m: Member) -> Self {
        Self {
            account_id: m.account_id,
            display_name: m.display_name,
            role: m.role.into(),
            last_read_seq: m.last_read_seq,
        }
    }
}

/// A window of history, ascending by seq.
#[derive(SimpleObject)]
#[graphql(name = "MessageWindow")]
pub struct MessageWindowObject {
    pub items: Vec<MessageObject>,
    pub has_older: bool,
    pub has_newer: bool,
}

impl From<MessageWindow> for MessageWindowObject {
    fn from(w: MessageWindow) -> Self {
        Self {
            items: w.items.into_iter().map(Into::into).collect(),
            has_older: w.has_older,
            has_newer: w.has_newer,
        }
    }
}

/// A conversation and its summary.
#[derive(SimpleObject, Clone)]
#[graphql(name = "Conversation", complex)]
pub struct ConversationObject {
    pub id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub members: Vec<MemberObject>,
    /// Messages in all, deleted ones included (= the newest seq).
    pub message_count: i64,
    /// Messages after the caller's read marker; null for support staff.
    pub unread_count: Option<i64>,
    pub last_message: Option<MessageObject>,
}

impl From<Conversation> for ConversationObject {
    fn from(c: Conversation) -> Self {
        Self {
            id: c.id,
            created_by: c.created_by,
            created_at: c.created_at,
            last_activity_at: c.last_activity_at,
            members: c.members.into_iter().map(Into::into).collect(),
            message_count: c.message_count,
            unread_count: c.unread_count,
            last_message: c.last_message.map(Into::into),
        }
    }
}

#[ComplexObject]
impl ConversationObject {
    /// History as a connection: `first`/`after` from the oldest, `last`/`before` from
    /// the newest (at most 100, default 50).
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<MessageObject>> {
        let state = ctx.data::<AppState>()?;
        let page = connection_page(WINDOW_LIMITS, first, after, last, before)?;
        let page = state
            .chat
            .messages_page(actor(ctx)?, self.id, page)
            .await
            .map_err(graphql_error)?;
        Ok(connection_of(page, MessageObject::from, EmptyFields))
    }

    /// Message `seq` with `older` messages before and `newer` after it (default: an
    /// even split of 50).
    async fn messages_around(
        &self,
        ctx: &Context<'_>,
        seq: i64,
        older: Option<i64>,
        newer: Option<i64>,
    ) -> Result<MessageWindowObject> {
        let state = ctx.data::<AppState>()?;
        let request =
            WindowRequest::new(None, None, None, Some(seq), older, newer).map_err(graphql_error)?;
        let window = state
            .chat
            .window(actor(ctx)?, self.id, request)
            .await
            .map_err(graphql_error)?;
        Ok(window.into())
    }
}

/// What `sendMessage` answers: the message, and whether this call stored it.
#[derive(SimpleObject)]
pub struct SendMessageResult {
    pub message: MessageObject,
    /// False for a retry that returned the message stored earlier.
    pub created: bool,
}

#[derive(Default)]
pub struct ChatQuery;

#[Object]
impl ChatQuery {
    /// The caller's conversations, most recently active first.
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<ConversationObject>> {
        let state = ctx.data::<AppState>()?;
        let page = connection_page(LIST_LIMITS, first, after, last, before)?;
        let page = state
            .chat
            .list(actor(ctx)?, page)
            .await
            .map_err(graphql_error)?;
        Ok(connection_of(page, ConversationObject::from, EmptyFields))
    }

    /// One conversation; null when it does not exist or the caller is not a member.
    async fn conversation(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> Result<Option<ConversationObject>> {
        let state = ctx.data::<AppState>()?;
        match state.chat.get(actor(ctx)?, id).await {
            Ok(conversation) => Ok(Some(conversation.into())),
            Err(domain::DomainError::NotFound { .. }) => Ok(None),
            Err(err) => Err(graphql_error(err)),
        }
    }
}

#[derive(Default)]
pub struct ChatMutation;

#[Object]
impl ChatMutation {
    /// Start a conversation (therapists, support and admins).
    async fn start_conversation(
        &self,
        ctx: &Context<'_>,
        member_ids: Vec<Uuid>,
    ) -> Result<ConversationObject> {
        let state = ctx.data::<AppState>()?;
        let conversation = state
            .chat
            .start(actor(ctx)?, member_ids)
            .await
            .map_err(graphql_error)?;
        Ok(conversation.into())
    }

    /// Send a message; idempotent by `clientMsgId`.
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        conversation_id: Uuid,
        client_msg_id: String,
        body: String,
    ) -> Result<SendMessageResult> {
        let state = ctx.data::<AppState>()?;
        let sent = state
            .chat
            .send(actor(ctx)?, conversation_id, &client_msg_id, body)
            .await
            .map_err(graphql_error)?;
        Ok(SendMessageResult {
            message: sent.message.into(),
            created: sent.created,
        })
    }

    /// Edit one of the caller's messages.
    async fn edit_message(
        &self,
        ctx: &Context<'_>,
        conversation_id: Uuid,
        seq: i64,
        body: String,
    ) -> Result<MessageObject> {
        let state = ctx.data::<AppState>()?;
        let message = state
            .chat
            .edit(actor(ctx)?, conversation_id, seq, body)
            .await
            .map_err(graphql_error)?;
        Ok(message.into())
    }

    /// Delete one of the caller's messages (it stays as a tombstone).
    async fn delete_message(
        &self,
        ctx: &Context<'_>,
        conversation_id: Uuid,
        seq: i64,
    ) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        state
            .chat
            .delete(actor(ctx)?, conversation_id, seq)
            .await
            .map_err(graphql_error)?;
        Ok(true)
    }

    /// Move the caller's read marker forward; returns it.
    async fn mark_read(&self, ctx: &Context<'_>, conversation_id: Uuid, seq: i64) -> Result<i64> {
        let state = ctx.data::<AppState>()?;
        state
            .chat
            .mark_read(actor(ctx)?, conversation_id, seq)
            .await
            .map_err(graphql_error)
    }
}
