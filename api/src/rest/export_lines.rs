//! The lines of a personal data export (GDPR Art. 15): `{"type": …, "data": …}`, one
//! per domain item, in the order the domain reads them; documented by the same
//! derive that writes them.

use chrono::{DateTime, Utc};
use domain::privacy::{ExportItem, ExportedConversation, ExportedMember};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::streams::ReadMarkerData;
use crate::views::{AccessEntry, Account, AuditEntry, Message, PushSubscription, Role, Therapist};

/// One line of a personal data export.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ExportLine {
    /// The account, first.
    #[schema(title = "ExportAccountLine")]
    Account(ExportedAccount),
    /// A conversation the person is a member of; its read markers and messages follow.
    #[schema(title = "ExportConversationLine")]
    Conversation(ExportConversation),
    /// Where a member of the conversation before it has read up to.
    #[schema(title = "ExportReadMarkerLine")]
    ReadMarker(ReadMarkerData),
    /// A message of the conversation, a tombstone when deleted.
    #[schema(title = "ExportMessageLine")]
    Message(ExportMessage),
    /// A body one of the person's own messages had before an edit or deletion.
    #[schema(title = "ExportRevisionLine")]
    Revision(ExportRevision),
    /// A registered device (never its address or keys).
    #[schema(title = "ExportPushSubscriptionLine")]
    PushSubscription(PushSubscription),
    /// Someone else read the person's data (this export included).
    #[schema(title = "ExportAccessLine")]
    Access(AccessEntry),
    /// A support or admin action on the person's account or profile.
    #[schema(title = "ExportAuditLine")]
    Audit(AuditEntry),
    /// The last line: the export is whole. A stream ending without it was cut short.
    #[schema(title = "ExportEndLine")]
    End(ExportEnd),
}

/// `data` of `account`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedAccount {
    pub account: Account,
    /// The directory profile of a therapist.
    pub profile: Option<Therapist>,
}

/// `data` of `conversation`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportConversation {
    pub id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    /// Messages in all, deleted ones included (= the newest seq).
    pub message_count: i64,
    /// The person's own switch: no push for this conversation.
    pub muted: bool,
    pub members: Vec<ExportMember>,
}

/// A member of an exported conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportMember {
    pub account_id: Uuid,
    pub display_name: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// `data` of `message`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportMessage {
    pub conversation_id: Uuid,
    pub message: Message,
}

/// `data` of `revision`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportRevision {
    pub conversation_id: Uuid,
    pub seq: i64,
    /// 1 for the first body replaced, then 2, 3, …
    pub revision: i32,
    pub body: String,
    pub replaced_at: DateTime<Utc>,
}

/// `data` of `end`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportEnd {
    /// Lines before this one.
    pub lines: u64,
}

impl From<ExportItem> for ExportLine {
    fn from(item: ExportItem) -> Self {
        match item {
            ExportItem::Account { account, profile } => Self::Account(ExportedAccount {
                account: account.into(),
                profile: profile.map(Into::into),
            }),
            ExportItem::Conversation(conversation) => Self::Conversation(conversation.into()),
            ExportItem::ReadMarker {
                conversation_id,
                account_id,
                seq,
            } => Self::ReadMarker(ReadMarkerData {
                conversation_id,
                account_id,
                seq,
            }),
            ExportItem::Message(message) => Self::Message(ExportMessage {
                conversation_id: message.conversation_id,
                message: message.into(),
            }),
            ExportItem::Revision(revision) => Self::Revision(ExportRevision {
                conversation_id: revision.conversation_id,
                seq: revision.seq,
                revision: revision.revision,
                body: revision.body,
                replaced_at: revision.replaced_at,
            }),
            ExportItem::PushSubscription(device) => Self::PushSubscription(device.into()),
            ExportItem::Access(entry) => Self::Access(entry.into()),
            ExportItem::Audit(entry) => Self::Audit(entry.into()),
            ExportItem::End { items } => Self::End(ExportEnd { lines: items }),
        }
    }
}

impl From<ExportedConversation> for ExportConversation {
    fn from(c: ExportedConversation) -> Self {
        Self {
            id: c.id,
            created_by: c.created_by,
            created_at: c.created_at,
            last_activity_at: c.last_activity_at,
            message_count: c.message_count,
            muted: c.muted,
            members: c.members.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<ExportedMember> for ExportMember {
    fn from(m: ExportedMember) -> Self {
        Self {
            account_id: m.account_id,
            display_name: m.display_name,
            role: m.role.into(),
            joined_at: m.joined_at,
        }
    }
}
