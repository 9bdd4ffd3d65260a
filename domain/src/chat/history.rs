//! Reading history: windows around an anchor, cursor pages of messages, and the
//! replay of what a reconnecting stream missed.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::entity::{conversation, message};
use super::window::{Anchor, WindowRequest, flags};
use super::{Access, ChatService, Message, MessageWindow};
use crate::DomainError;
use crate::access_log::Purpose;
use crate::actor::Actor;
use crate::page::{Direction, Page, PageArgs, PageRequest, Pager, Rows};
use crate::sql::first_rows;

/// A conversation its caller was admitted to as a member: history reads within one
/// request (a GraphQL `conversation` and its `messages`) need not check it again.
/// Only this module builds one.
#[derive(Debug, Clone)]
pub struct Admission {
    actor: Actor,
    conversation: conversation::Model,
}

/// A conversation's own row and the caller's admission to its history (`head`).
#[derive(Debug, Clone)]
pub struct ConversationHead {
    pub id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    /// Messages in all, tombstones included.
    pub message_count: i64,
    /// `None` for staff, who are not members.
    pub admission: Option<Admission>,
}

impl ChatService {
    /// Admits `actor` to read or write conversation `id`: members only (staff get
    /// `Forbidden`, others `NotFound`). One statement.
    pub async fn admit(&self, actor: &Actor, id: Uuid) -> Result<Admission, DomainError> {
        let (conversation, _) = self.member_access(actor, id).await?;
        Ok(Admission {
            actor: actor.clone(),
            conversation,
        })
    }

    /// Conversation `id`'s own row, for a reader who wants its history and not its
    /// members, unread count or last message (`get` reads those), with the caller's
    /// admission when they are a member (staff see the row, never the history). One
    /// statement.
    pub async fn head(&self, actor: &Actor, id: Uuid) -> Result<ConversationHead, DomainError> {
        let (conversation, access) = self.access(actor, id).await?;
        self.log_reads(actor, [id], access.purpose()).await?;
        Ok(head_of(actor, conversation, &access))
    }

    /// A window of history, ascending by seq, with exact has-older/has-newer flags.
    /// One statement (admission and the seq range together) at any depth.
    pub async fn window(
        &self,
        actor: &Actor,
        id: Uuid,
        request: WindowRequest,
    ) -> Result<MessageWindow, DomainError> {
        let (conversation, access, items) = self.read_with_window(actor, id, request).await?;
        access.member()?;
        let admission = Admission {
            actor: actor.clone(),
            conversation,
        };
        self.finish_window(&admission, request, items).await
    }

    /// A window of the conversation `admission` opened: one statement.
    pub async fn window_in(
        &self,
        admission: &Admission,
        request: WindowRequest,
    ) -> Result<MessageWindow, DomainError> {
        let (lo, hi) = request.range(admission.conversation.last_seq);
        let items = if lo <= hi && !beyond_history(admission, request) {
            let range = message::Entity::find()
                .filter(message::Column::ConversationId.eq(admission.conversation.id))
                .filter(message::Column::Seq.gte(lo))
                .filter(message::Column::Seq.lte(hi))
                .order_by_asc(message::Column::Seq);
            first_rows::<_, message::Model>(&self.db, range, (hi - lo + 1) as u64)
                .await?
                .into_iter()
                .map(Message::from)
                .collect()
        } else {
            Vec::new()
        };
        self.finish_window(admission, request, items).await
    }

    /// The window of `items` read for `request`: logged, with its flags; a window
    /// around a message that does not exist is `NotFound`.
    pub(super) async fn finish_window(
        &self,
        admission: &Admission,
        request: WindowRequest,
        items: Vec<Message>,
    ) -> Result<MessageWindow, DomainError> {
        let id = admission.conversation.id;
        self.log_reads(&admission.actor, [id], Purpose::Care)
            .await?;
        if beyond_history(admission, request) {
            return Err(DomainError::NotFound { entity: "message" });
        }
        let last_seq = admission.conversation.last_seq;
        let (lo, hi) = request.range(last_seq);
        let (has_older, has_newer) = flags(lo, hi, last_seq);
        Ok(MessageWindow {
            items,
            has_older,
            has_newer,
        })
    }

    /// Message `seq` of conversation `id`, as history shows it (members only).
    pub async fn message(&self, actor: &Actor, id: Uuid, seq: i64) -> Result<Message, DomainError> {
        let request = WindowRequest {
            limit: 1,
            anchor: Anchor::After(seq.saturating_sub(1)),
        };
        self.window(actor, id, request)
            .await?
            .items
            .into_iter()
            .find(|message| message.seq == seq)
            .ok_or(DomainError::NotFound { entity: "message" })
    }

    /// History as a cursor-paged list (the GraphQL connection): forward from the
    /// oldest message or a cursor, backward from the newest or a cursor, with exact
    /// flags on both sides.
    pub async fn messages_page(
        &self,
        actor: &Actor,
        id: Uuid,
        page: PageArgs,
    ) -> Result<Page<Message>, DomainError> {
        let admission = self.admit(actor, id).await?;
        self.messages_page_in(&admission, page).await
    }

    /// `messages_page` of the conversation `admission` opened.
    pub async fn messages_page_in(
        &self,
        admission: &Admission,
        page: PageArgs,
    ) -> Result<Page<Message>, DomainError> {
        let scope = messages_scope(admission.conversation.id);
        let pager = self.messages_pager(&scope);
        let page = pager.check(page)?;
        let request = page_window(&pager, &page)?;
        let window = self.window_in(admission, request).await?;
        Ok(page_of(&pager, &page, window))
    }

    /// The pager of one conversation's message cursors (`scope`: `messages_scope`).
    pub(super) fn messages_pager<'a>(&'a self, scope: &'a str) -> Pager<'a> {
        Pager {
            cursors: &self.cursors,
            scope,
            limits: Self::HISTORY_PAGE,
        }
    }
}

/// What `head` answers for `conversation`, read under `access`.
pub(super) fn head_of(
    actor: &Actor,
    conversation: conversation::Model,
    access: &Access,
) -> ConversationHead {
    ConversationHead {
        id: conversation.id,
        created_by: conversation.created_by,
        created_at: conversation.created_at,
        last_activity_at: conversation.last_activity_at,
        message_count: conversation.last_seq,
        admission: matches!(access, Access::Member(_)).then(|| Admission {
            actor: actor.clone(),
            conversation,
        }),
    }
}

pub(super) fn messages_scope(id: Uuid) -> String {
    crate::cursor::scope(&[Some("messages"), Some(&id.to_string())])
}

/// The window a page of messages covers.
pub(super) fn page_window(
    pager: &Pager<'_>,
    page: &PageRequest,
) -> Result<WindowRequest, DomainError> {
    let seq: Option<i64> = pager.open(page)?;
    let anchor = match (page.direction, seq) {
        (Direction::Forward, seq) => Anchor::After(seq.unwrap_or(0)),
        (Direction::Backward, Some(seq)) => Anchor::Before(seq),
        (Direction::Backward, None) => Anchor::Latest,
    };
    Ok(WindowRequest {
        limit: page.limit as i64,
        anchor,
    })
}

/// A window as the page it answers.
pub(super) fn page_of(
    pager: &Pager<'_>,
    page: &PageRequest,
    window: MessageWindow,
) -> Page<Message> {
    let rows = Rows {
        rows: window.items,
        has_next: window.has_newer,
        has_prev: window.has_older,
    };
    pager.seal(page, rows, |m| m.seq)
}

/// Whether `request` is around a message after the newest.
fn beyond_history(admission: &Admission, request: WindowRequest) -> bool {
    matches!(request.anchor, Anchor::Around { seq, .. } if seq > admission.conversation.last_seq)
}

impl ChatService {
    /// Refuses unless the caller is a member of conversation `id`.
    pub async fn require_member(&self, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
        self.member_access(actor, id).await.map(drop)
    }
}
