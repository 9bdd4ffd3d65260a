//! GraphQL door to chat. Membership, seq assignment, idempotency and windows live in
//! `domain::chat`; a page of conversations comes with members and last messages from
//! one domain call (a fixed number of queries), so there is no N+1 to batch away.

use async_graphql::connection::EmptyFields;
use async_graphql::{
    ComplexObject, Context, Lookahead, Object, Result, ScalarType, SelectionField, SimpleObject,
    Value,
};
use domain::chat::{WindowArgs, WindowRequest};
use uuid::Uuid;

use super::connection::{Connection, connection_of};
use super::connection::{connection_page, connection_page_of};
use super::plain::{OnePass, Plain, PlainFields};
use super::{actor, graphql_error};
use crate::state::AppState;
use crate::views;

#[ComplexObject]
impl views::Conversation {
    /// History as a connection: `first`/`after` from the oldest, `last`/`before` from
    /// the newest (at most 100, default 50).
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<Plain<views::Message>>> {
        let state = ctx.data::<AppState>()?;
        if let Some(page) = &self.prefetched_messages {
            return Ok(connection_of(
                page.clone(),
                |message| Plain(views::Message::from(message)),
                EmptyFields,
            ));
        }
        let page = connection_page(ctx, first, after, last, before);
        let page = match &self.admission {
            Some(admission) => state.chat.messages_page_in(admission, page).await,
            None => state.chat.messages_page(actor(ctx)?, self.uuid, page).await,
        }
        .map_err(graphql_error)?;
        Ok(connection_of(
            page,
            |message| Plain(views::Message::from(message)),
            EmptyFields,
        ))
    }

    /// Message `seq` with `older` messages before and `newer` after it (default: an
    /// even split of 50).
    async fn messages_around(
        &self,
        ctx: &Context<'_>,
        seq: i64,
        older: Option<i64>,
        newer: Option<i64>,
    ) -> Result<views::MessageWindow> {
        let state = ctx.data::<AppState>()?;
        let request = WindowRequest::new(WindowArgs {
            around: Some(seq),
            older,
            newer,
            ..WindowArgs::default()
        })
        .map_err(graphql_error)?;
        let window = match &self.admission {
            Some(admission) => state.chat.window_in(admission, request).await,
            None => state.chat.window(actor(ctx)?, self.uuid, request).await,
        }
        .map_err(graphql_error)?;
        Ok(window.into())
    }
}

impl PlainFields for views::Message {
    fn plain_field(&self, name: &str) -> Option<Value> {
        let time = |at: &Option<chrono::DateTime<chrono::Utc>>| {
            at.as_ref().map_or(Value::Null, ScalarType::to_value)
        };
        Some(match name {
            "id" => self.global_id.to_value(),
            "seq" => Value::from(self.seq),
            "senderId" => self.sender_id.to_value(),
            "clientMsgId" => Value::String(self.client_msg_id.clone()),
            "body" => self.body.clone().map_or(Value::Null, Value::String),
            "createdAt" => self.created_at.to_value(),
            "editedAt" => time(&self.edited_at),
            "deleted" => Value::Boolean(self.deleted),
            _ => return None,
        })
    }
}

/// What `sendMessage` answers: the message, and whether this call stored it.
#[derive(SimpleObject)]
pub struct SendMessageResult {
    pub message: views::Message,
    /// False for a retry that returned the message stored earlier.
    pub created: bool,
}

/// The page a `messages` selection asks for; `None` when its arguments are not
/// what the field takes (the field then reports them itself).
fn page_asked(messages: &SelectionField<'_>) -> Option<domain::page::PageArgs> {
    let (mut first, mut after, mut last, mut before) = (None, None, None, None);
    for (name, value) in messages.arguments().ok()? {
        let count = |value: &Value| match value {
            Value::Null => Some(None),
            Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()).map(Some),
            _ => None,
        };
        let cursor = |value: &Value| match value {
            Value::Null => Some(None),
            Value::String(cursor) => Some(Some(cursor.clone())),
            _ => None,
        };
        match name.as_str() {
            "first" => first = count(&value)?,
            "last" => last = count(&value)?,
            "after" => after = cursor(&value)?,
            "before" => before = cursor(&value)?,
            _ => return None,
        }
    }
    let selection = Lookahead::from(*messages);
    Some(connection_page_of(selection, first, after, last, before))
}

/// The fields of `Conversation` that need more than its own row.
const SUMMARY_FIELDS: [&str; 3] = ["members", "unreadCount", "lastMessage"];

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
    ) -> Result<Connection<views::Conversation>> {
        let state = ctx.data::<AppState>()?;
        let page = connection_page(ctx, first, after, last, before);
        let page = state
            .chat
            .list(actor(ctx)?, page)
            .await
            .map_err(graphql_error)?;
        Ok(connection_of(page, views::Conversation::from, EmptyFields))
    }

    /// Every change the caller must learn about after `since` (the `next` of the
    /// previous answer), in order; without it, the current position and no changes.
    /// `first`: at most 500 changes an answer (default 100); `limited` says more
    /// follow. A tampered, foreign or expired token is an error
    /// with code `invalid_sync_token`: reload, then sync without `since`.
    async fn sync(
        &self,
        ctx: &Context<'_>,
        since: Option<String>,
        first: Option<i32>,
    ) -> Result<views::SyncPage> {
        let state = ctx.data::<AppState>()?;
        let page = state
            .chat
            .sync(actor(ctx)?, since.as_deref(), first.map(i64::from))
            .await
            .map_err(graphql_error)?;
        Ok(page.into())
    }

    /// One conversation; null when it does not exist or the caller is not a member.
    async fn conversation(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> Result<Option<views::Conversation>> {
        let state = ctx.data::<AppState>()?;
        // A chat screen paging history selects none of the summary fields: the
        // conversation's own row is then enough, and its membership check serves the
        // history too.
        let selected = ctx.look_ahead();
        let summary = SUMMARY_FIELDS
            .iter()
            .any(|field| selected.field(field).exists());
        // With one `messages` page selected, it is read in the same statement.
        let history = selected.field("messages").selection_fields();
        let conversation = if summary {
            state.chat.get(actor(ctx)?, id).await.map(Into::into)
        } else if let [messages] = history.as_slice()
            && let Some(page) = page_asked(messages)
        {
            state
                .chat
                .head_with_messages(actor(ctx)?, id, page)
                .await
                .map(|(head, page)| views::Conversation {
                    prefetched_messages: page,
                    ..head.into()
                })
        } else {
            state.chat.head(actor(ctx)?, id).await.map(Into::into)
        };
        match conversation {
            Ok(conversation) => Ok(Some(conversation)),
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
    ) -> Result<views::Conversation> {
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
    ) -> Result<views::Message> {
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

impl OnePass for views::Conversation {}
