//! Reading history: windows around an anchor, cursor pages of messages, and the
//! replay of what a reconnecting stream missed.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::entity::message;
use super::window::{Anchor, WindowRequest, flags};
use super::{ChatService, Message, MessageWindow};
use crate::DomainError;
use crate::access_log::Purpose;
use crate::actor::Actor;
use crate::page::{Direction, Page, PageArgs, Pager, Rows};

impl ChatService {
    /// A window of history, ascending by seq, with exact has-older/has-newer flags.
    /// Three statements (conversation, membership, the seq range) at any depth.
    pub async fn window(
        &self,
        actor: &Actor,
        id: Uuid,
        request: WindowRequest,
    ) -> Result<MessageWindow, DomainError> {
        let (conversation, _) = self.member_access(actor, id).await?;
        self.log_reads(actor, [id], Purpose::Care).await?;
        let last_seq = conversation.last_seq;
        if let Anchor::Around { seq, .. } = request.anchor
            && seq > last_seq
        {
            return Err(DomainError::NotFound { entity: "message" });
        }
        let (lo, hi) = request.range(last_seq);
        let items = if lo <= hi {
            message::Entity::find()
                .filter(message::Column::ConversationId.eq(id))
                .filter(message::Column::Seq.gte(lo))
                .filter(message::Column::Seq.lte(hi))
                .order_by_asc(message::Column::Seq)
                .limit((hi - lo + 1) as u64)
                .all(&self.db)
                .await?
                .into_iter()
                .map(Message::from)
                .collect()
        } else {
            Vec::new()
        };
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
        let conversation = id.to_string();
        let scope = crate::cursor::scope(&[Some("messages"), Some(&conversation)]);
        let pager = Pager {
            cursors: &self.cursors,
            scope: &scope,
            limits: Self::HISTORY_PAGE,
        };
        let page = pager.check(page)?;
        let seq: Option<i64> = pager.open(&page)?;
        let limit = page.limit as i64;
        let anchor = match (page.direction, seq) {
            (Direction::Forward, seq) => Anchor::After(seq.unwrap_or(0)),
            (Direction::Backward, Some(seq)) => Anchor::Before(seq),
            (Direction::Backward, None) => Anchor::Latest,
        };
        let window = self
            .window(actor, id, WindowRequest { limit, anchor })
            .await?;
        let rows = Rows {
            rows: window.items,
            has_next: window.has_newer,
            has_prev: window.has_older,
        };
        Ok(pager.seal(&page, rows, |m| m.seq))
    }
}

impl ChatService {
    /// Refuses unless the caller is a member of conversation `id`.
    pub async fn require_member(&self, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
        self.member_access(actor, id).await.map(drop)
    }
}
