//! What clients see of each resource: one struct serves both doors. REST serialises it
//! with serde (snake_case, documented by utoipa); GraphQL resolves it with
//! async-graphql (camelCase). Each is converted from its domain type once, here.

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::graphql::global_id::{global_id, message_global_id};

mod access_log;
mod privacy;
mod push;
mod sync;
mod totp;

pub use access_log::{AccessEntry, AccessPurpose};
pub use privacy::Erasure;
pub use push::{
    ApnsRegistration, FcmRegistration, NotificationSettings, PushSubscription, WebPushSubscription,
};
pub use sync::{SyncChange, SyncPage};
pub use totp::{RecoveryCodes, TotpEnrolment};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Enum)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "domain::actor::Role")]
pub enum Role {
    Client,
    Therapist,
    Support,
    Admin,
}

/// Whether a therapist takes new clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Enum)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "domain::directory::Accepting")]
pub enum AcceptingStatus {
    Accepting,
    NotAccepting,
    ExistingClientsOnly,
    Waitlist,
}

/// How the client wants to meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Enum)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "domain::directory::Mode")]
pub enum MeetingMode {
    Online,
    InPerson,
}

/// A presence status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Enum)]
#[serde(rename_all = "snake_case")]
#[graphql(remote = "domain::events::Status")]
pub enum PresenceStatus {
    Online,
    Away,
    Busy,
    Offline,
}

/// An account as support staff see it (never its password).
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct Account {
    /// Global id (Relay); use `uuid` with the REST API.
    #[serde(skip)]
    #[graphql(name = "id")]
    pub global_id: ID,
    #[serde(rename = "id")]
    pub uuid: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// The directory profile of a therapist account.
    pub therapist_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// Records kept for a legal duty: the account cannot be erased while set.
    pub legal_hold: bool,
    /// When the account was erased: its email and name are a pseudonym since.
    pub erased_at: Option<DateTime<Utc>>,
}

impl From<domain::accounts::Account> for Account {
    fn from(a: domain::accounts::Account) -> Self {
        Self {
            global_id: global_id("Account", a.id),
            uuid: a.id,
            email: a.email,
            display_name: a.display_name,
            role: a.role.into(),
            disabled: a.disabled,
            therapist_id: a.therapist_id,
            created_at: a.created_at,
            legal_hold: a.legal_hold,
            erased_at: a.erased_at,
        }
    }
}

/// One audited action.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct AuditEntry {
    /// Global id (Relay); use `uuid` with the REST API.
    #[serde(skip)]
    #[graphql(name = "id")]
    pub global_id: ID,
    #[serde(rename = "id")]
    pub uuid: Uuid,
    /// The account that acted.
    pub actor_id: Uuid,
    /// e.g. `account.disable`, `therapist.create`, `therapist.update`.
    pub action: String,
    pub target_type: String,
    pub target_id: Uuid,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Why, for actions that need a reason (erasure, legal hold).
    pub reason: Option<String>,
}

impl From<domain::audit::AuditEntry> for AuditEntry {
    fn from(e: domain::audit::AuditEntry) -> Self {
        Self {
            global_id: global_id("AuditEntry", e.id),
            uuid: e.id,
            actor_id: e.actor_id,
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            request_id: e.request_id,
            created_at: e.created_at,
            reason: e.reason,
        }
    }
}

/// One message; a deleted one keeps its seq, sender and times, with no body.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct Message {
    /// Global id (Relay).
    #[serde(skip)]
    #[graphql(name = "id")]
    pub global_id: ID,
    /// Position in the conversation: 1, 2, 3, … with no gaps, in commit order.
    pub seq: i64,
    pub sender_id: Uuid,
    pub client_msg_id: String,
    /// The latest body; null when deleted (and for support staff).
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
}

impl From<domain::chat::Message> for Message {
    fn from(m: domain::chat::Message) -> Self {
        Self {
            global_id: message_global_id(m.conversation_id, m.seq),
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

impl From<domain::events::LiveMessage> for Message {
    fn from(m: domain::events::LiveMessage) -> Self {
        Self {
            global_id: message_global_id(m.conversation_id, m.seq),
            seq: m.seq,
            sender_id: m.sender_id,
            client_msg_id: m.client_msg_id,
            body: Some(m.body),
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted: false,
        }
    }
}

/// A member of a conversation.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct ConversationMember {
    pub account_id: Uuid,
    pub display_name: String,
    pub role: Role,
    /// The newest seq this member has read.
    pub last_read_seq: i64,
}

impl From<domain::chat::Member> for ConversationMember {
    fn from(m: domain::chat::Member) -> Self {
        Self {
            account_id: m.account_id,
            display_name: m.display_name,
            role: m.role.into(),
            last_read_seq: m.last_read_seq,
        }
    }
}

/// A conversation and its summary.
// GraphQL adds its history (`messages`, `messagesAround`) in `graphql::chat`.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
#[graphql(complex)]
pub struct Conversation {
    /// Global id (Relay); use `uuid` with the REST API.
    #[serde(skip)]
    #[graphql(name = "id")]
    pub global_id: ID,
    #[serde(rename = "id")]
    pub uuid: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub members: Vec<ConversationMember>,
    /// Messages in all, deleted ones included (= the newest seq).
    pub message_count: i64,
    /// Messages after the caller's read marker; null for support staff.
    pub unread_count: Option<i64>,
    /// The newest message, as a preview (without body for support staff).
    pub last_message: Option<Message>,
    /// The caller's checked membership, when read by `head`: its history is then read
    /// without checking it again.
    #[serde(skip)]
    #[graphql(skip)]
    pub admission: Option<domain::chat::Admission>,
    /// The page `messages` asked for, read with the row (`head_with_messages`).
    #[serde(skip)]
    #[graphql(skip)]
    pub prefetched_messages: Option<domain::page::Page<domain::chat::Message>>,
}

impl From<domain::chat::Conversation> for Conversation {
    fn from(c: domain::chat::Conversation) -> Self {
        Self {
            global_id: global_id("Conversation", c.id),
            uuid: c.id,
            created_by: c.created_by,
            created_at: c.created_at,
            last_activity_at: c.last_activity_at,
            members: c.members.into_iter().map(Into::into).collect(),
            message_count: c.message_count,
            unread_count: c.unread_count,
            last_message: c.last_message.map(Into::into),
            admission: None,
            prefetched_messages: None,
        }
    }
}

/// Only for a GraphQL query that selects none of `members`, `unreadCount` and
/// `lastMessage` (see `graphql::chat`): those are left empty, never shown.
impl From<domain::chat::ConversationHead> for Conversation {
    fn from(head: domain::chat::ConversationHead) -> Self {
        Self {
            global_id: global_id("Conversation", head.id),
            uuid: head.id,
            created_by: head.created_by,
            created_at: head.created_at,
            last_activity_at: head.last_activity_at,
            members: Vec::new(),
            message_count: head.message_count,
            unread_count: None,
            last_message: None,
            admission: head.admission,
            prefetched_messages: None,
        }
    }
}

/// A window of history, ascending by seq.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct MessageWindow {
    pub items: Vec<Message>,
    /// Messages older than the window exist.
    pub has_older: bool,
    /// Messages newer than the window exist.
    pub has_newer: bool,
}

impl From<domain::chat::MessageWindow> for MessageWindow {
    fn from(w: domain::chat::MessageWindow) -> Self {
        Self {
            items: w.items.into_iter().map(Into::into).collect(),
            has_older: w.has_older,
            has_newer: w.has_newer,
        }
    }
}

/// A therapist's public profile.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
#[schema(as = TherapistDto)]
#[graphql(name = "Therapist")]
pub struct Therapist {
    /// Global id (Relay); use `uuid` with the REST API.
    #[serde(skip)]
    #[graphql(name = "id")]
    pub global_id: ID,
    #[serde(rename = "id")]
    pub uuid: Uuid,
    pub display_name: String,
    pub bio: String,
    /// Specialty codes, e.g. `anxiety`.
    pub specialties: Vec<String>,
    /// ISO 639-1 language codes.
    pub languages: Vec<String>,
    pub city: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    pub organisation_id: Option<Uuid>,
    pub accepting: AcceptingStatus,
    pub offers_online: bool,
    pub offers_in_person: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<domain::directory::Therapist> for Therapist {
    fn from(t: domain::directory::Therapist) -> Self {
        Self {
            global_id: global_id("Therapist", t.id),
            uuid: t.id,
            display_name: t.display_name,
            bio: t.bio,
            specialties: t.specialties,
            languages: t.languages,
            city: t.city,
            country: t.country,
            organisation_id: t.organisation_id,
            accepting: t.accepting.into(),
            offers_online: t.offers_online,
            offers_in_person: t.offers_in_person,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A therapist account and its profile.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
#[schema(as = TherapistAccountDto)]
pub struct TherapistAccount {
    pub account: Account,
    pub therapist: Therapist,
}

impl From<domain::accounts::TherapistAccount> for TherapistAccount {
    fn from(t: domain::accounts::TherapistAccount) -> Self {
        Self {
            account: t.account.into(),
            therapist: t.therapist.into(),
        }
    }
}

/// A short-lived access token and a single-use refresh token.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
#[schema(as = TokenResponse)]
pub struct Tokens {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: String,
}

impl From<domain::accounts::TokenPair> for Tokens {
    fn from(pair: domain::accounts::TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            token_type: "Bearer".to_owned(),
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token,
        }
    }
}
