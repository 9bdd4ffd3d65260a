//! Chat: conversations between a client and their therapist or care team, messages
//! with per-conversation seqs assigned in the insert's transaction, idempotent
//! sending, history windows, read markers. Only members read or write a
//! conversation; support staff see its metadata and never a message body.

mod access;
mod contacts;
mod conversations;
mod entity;
mod history;
mod live;
mod members;
mod muting;
mod resume;
mod revisions;
mod screen;
mod sending;
mod sync;
mod typing;
mod window;
mod window_read;

pub(crate) use contacts::contacts_of;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect};
use uuid::Uuid;

pub use entity::{conversation, member, message, revision};
pub use history::{Admission, ConversationHead};
pub use live::FeedCursor;
pub use resume::Resumption;
pub use sync::{Change, Changed, SyncPage};
pub use typing::TYPING_LASTS;
pub use window::{Anchor, WindowArgs, WindowRequest};

use crate::DomainError;
use crate::access_log::AccessLog;
use crate::actor::{Actor, Role};
use crate::cursor::CursorKey;
use crate::database::Db;
use crate::events::Hub;
use crate::push::Outbox;
use crate::sync::Sequencer;

/// A message as members see it; a deleted one keeps its place with no body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub conversation_id: Uuid,
    pub seq: i64,
    pub sender_id: Uuid,
    pub client_msg_id: String,
    /// The latest body; `None` for a deleted message (or for staff, who never see one).
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
}

impl Message {
    /// The message as real time carries it; `None` for one without a body to show.
    pub(crate) fn live(&self) -> Option<crate::events::LiveMessage> {
        Some(crate::events::LiveMessage {
            conversation_id: self.conversation_id,
            seq: self.seq,
            sender_id: self.sender_id,
            client_msg_id: self.client_msg_id.clone(),
            body: self.body.clone()?,
            created_at: self.created_at,
            edited_at: self.edited_at,
        })
    }
}

impl From<message::Model> for Message {
    fn from(row: message::Model) -> Self {
        Self {
            conversation_id: row.conversation_id,
            seq: row.seq,
            sender_id: row.sender_id,
            client_msg_id: row.client_msg_id,
            deleted: row.deleted_at.is_some(),
            body: row.body,
            created_at: row.created_at,
            edited_at: row.edited_at,
        }
    }
}

/// A member of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account_id: Uuid,
    pub display_name: String,
    pub role: Role,
    pub last_read_seq: i64,
}

/// A conversation with what a list row shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub members: Vec<Member>,
    /// Messages in all, tombstones included.
    pub message_count: i64,
    /// Messages after the caller's read marker; `None` for staff, who are not members.
    pub unread_count: Option<i64>,
    /// The newest message (without its body for staff).
    pub last_message: Option<Message>,
}

/// The result of a send: the message, and whether this call stored it (a retry of an
/// earlier send returns the stored message with `created: false`).
#[derive(Debug, Clone)]
pub struct Sent {
    pub message: Message,
    pub created: bool,
}

/// A window of history, ascending by seq.
#[derive(Debug, Clone)]
pub struct MessageWindow {
    pub items: Vec<Message>,
    pub has_older: bool,
    pub has_newer: bool,
}

/// How the caller relates to a conversation.
enum Access {
    Member(member::Model),
    /// Support or admin, not a member: metadata only.
    Staff,
}

impl Access {
    /// The membership, for reading or writing bodies: members only.
    fn member(self) -> Result<member::Model, DomainError> {
        match self {
            Self::Member(member) => Ok(member),
            Self::Staff => Err(DomainError::Forbidden {
                action: "read or write messages (support staff see conversation metadata only)",
            }),
        }
    }

    /// Why a read under this access is logged.
    fn purpose(&self) -> crate::access_log::Purpose {
        match self {
            Self::Member(_) => crate::access_log::Purpose::Care,
            Self::Staff => crate::access_log::Purpose::Support,
        }
    }
}

/// Conversations and their messages.
#[derive(Debug, Clone)]
pub struct ChatService {
    db: Db,
    cursors: CursorKey,
    hub: Hub,
    outbox: Outbox,
    gates: Arc<Mutex<HashMap<Uuid, Weak<tokio::sync::Mutex<()>>>>>,
    members: Arc<members::MemberCache>,
    typing: Arc<typing::TypingBoard>,
    access_log: AccessLog,
    sequencer: Sequencer,
}

/// Gates kept before dead ones are pruned.
const PRUNE_GATES_ABOVE: usize = 10_000;

impl ChatService {
    /// Chat over `db`, publishing real-time events through `hub`, owing pushes to
    /// `outbox` and logging reads of clients' data in `access_log`.
    pub fn new(
        db: Db,
        cursors: CursorKey,
        hub: Hub,
        outbox: Outbox,
        access_log: AccessLog,
    ) -> Self {
        Self {
            sequencer: Sequencer::new(db.clone()),
            db,
            cursors,
            hub,
            outbox,
            gates: Arc::default(),
            members: Arc::default(),
            typing: Arc::default(),
            access_log,
        }
    }

    /// The gate of conversation `id`: held from taking a seq until the event is
    /// published, so this node publishes a conversation's messages in seq order.
    fn gate(&self, id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(gate) = gates.get(&id).and_then(Weak::upgrade) {
            return gate;
        }
        if gates.len() > PRUNE_GATES_ABOVE {
            gates.retain(|_, gate| gate.strong_count() > 0);
        }
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        gates.insert(id, Arc::downgrade(&gate));
        gate
    }

    /// The conversation and the caller's standing in it. Non-members who are not
    /// staff get `NotFound`: they may not learn that the conversation exists.
    async fn access(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<(conversation::Model, Access), DomainError> {
        let found = Self::access_select(actor, id).one(&self.db).await?;
        standing(actor, found)
    }

    /// One statement: the conversation with the caller's membership row, if any.
    fn access_select(
        actor: &Actor,
        id: Uuid,
    ) -> sea_orm::SelectTwo<conversation::Entity, member::Entity> {
        let reader = actor.account_id;
        let membership = member::Entity::belongs_to(conversation::Entity)
            .from(member::Column::ConversationId)
            .to(conversation::Column::Id)
            .on_condition(move |members, _| {
                ExprTrait::eq(Expr::col((members, member::Column::AccountId)), reader)
                    .into_condition()
            })
            .into();
        conversation::Entity::find_by_id(id)
            .select_also(member::Entity)
            .join_rev(JoinType::LeftJoin, membership)
    }

    /// Like `access`, for reading or writing bodies: members only.
    async fn member_access(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<(conversation::Model, member::Model), DomainError> {
        let (conversation, access) = self.access(actor, id).await?;
        Ok((conversation, access.member()?))
    }
}

/// What the access statement found, as the caller's standing.
fn standing(
    actor: &Actor,
    found: Option<(conversation::Model, Option<member::Model>)>,
) -> Result<(conversation::Model, Access), DomainError> {
    match found {
        Some((conversation, Some(member))) => Ok((conversation, Access::Member(member))),
        Some((conversation, None)) if actor.role.is_staff() => Ok((conversation, Access::Staff)),
        _ => Err(DomainError::NotFound {
            entity: "conversation",
        }),
    }
}

/// The members of conversation `id`, read over `conn` (a change's own transaction).
async fn members_in(
    conn: &impl sea_orm::ConnectionTrait,
    id: Uuid,
) -> Result<Vec<Uuid>, DomainError> {
    Ok(member::Entity::find()
        .select_only()
        .column(member::Column::AccountId)
        .filter(member::Column::ConversationId.eq(id))
        .into_tuple()
        .all(conn)
        .await?)
}

impl ChatService {
    /// Records `entry` for every member of conversation `id`, inside `txn`; after the
    /// commit, `sequencer` gives out their positions.
    async fn record_for_members(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        id: Uuid,
        entry: crate::sync::Entry,
    ) -> Result<crate::sync::Recorded, DomainError> {
        let members = self.members.of(txn, id).await?;
        crate::sync::record(txn, &members, entry).await
    }

    /// Records that message `seq` of conversation `id` was created, edited or deleted.
    async fn record_message(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        id: Uuid,
        seq: i64,
    ) -> Result<crate::sync::Recorded, DomainError> {
        let entry = crate::sync::Entry::Message {
            conversation_id: id,
            seq,
        };
        self.record_for_members(txn, id, entry).await
    }
}
