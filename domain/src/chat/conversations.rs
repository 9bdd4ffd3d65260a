//! Starting conversations, listing the caller's by last activity, one conversation's
//! metadata, and read markers.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::entity::{conversation, member, message};
use super::{ChatService, Conversation, Member, Message};
use crate::DomainError;
use crate::access_log::Purpose;
use crate::accounts::account;
use crate::actor::{Actor, Role};
use crate::audit;
use crate::events::Event;
use crate::limits::MAX_MEMBERS;
use crate::page::{Keyset, LIST_LIMITS, Page, PageArgs, PageLimits, Pager, Position};
use crate::sync::{self, Entry};

#[derive(Serialize, Deserialize)]
struct ListPosition(DateTime<Utc>, Uuid);

impl Position for ListPosition {
    fn key(&self) -> (sea_orm::Value, sea_orm::Value) {
        (self.0.into(), self.1.into())
    }
}

impl ChatService {
    /// Page sizes of the caller's conversation list.
    pub const CONVERSATION_PAGE: PageLimits = LIST_LIMITS;

    /// Starts a conversation. A therapist starts one with themself and `member_ids`;
    /// support and admins start one between `member_ids` without joining it. Members
    /// must be active clients and therapists, at least one of each.
    pub async fn start(
        &self,
        actor: &Actor,
        member_ids: Vec<Uuid>,
    ) -> Result<Conversation, DomainError> {
        let mut members: Vec<Uuid> = Vec::new();
        match actor.role {
            Role::Therapist => members.push(actor.account_id),
            Role::Support | Role::Admin => {}
            Role::Client => {
                return Err(DomainError::Forbidden {
                    action: "start conversations (therapists and support staff start them)",
                });
            }
        }
        for id in member_ids {
            if !members.contains(&id) {
                members.push(id);
            }
        }
        if members.len() < 2 || members.len() > MAX_MEMBERS {
            return Err(DomainError::Validation(format!(
                "member_ids: a conversation has 2 to {MAX_MEMBERS} members"
            )));
        }
        let accounts = account::Entity::find()
            .filter(account::Column::Id.is_in(members.clone()))
            .all(&self.db)
            .await?;
        if accounts.len() != members.len() || accounts.iter().any(|a| a.disabled) {
            return Err(DomainError::Validation(
                "member_ids: every member must be an existing, active account".into(),
            ));
        }
        let roles = accounts
            .iter()
            .map(|a| Role::stored(&a.role))
            .collect::<Result<Vec<Role>, _>>()?;
        if roles.iter().any(|r| r.is_staff()) {
            return Err(DomainError::Validation(
                "member_ids: support staff cannot be members (they never read messages)".into(),
            ));
        }
        if !roles.contains(&Role::Client) || !roles.contains(&Role::Therapist) {
            return Err(DomainError::Validation(
                "member_ids: a conversation has at least one client and one therapist".into(),
            ));
        }

        let id = Uuid::now_v7();
        let now = crate::clock::now();
        let txn = self.db.begin().await?;
        conversation::Entity::insert(conversation::ActiveModel {
            id: Set(id),
            created_by: Set(actor.account_id),
            last_seq: Set(0),
            last_activity_at: Set(now),
            created_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        member::Entity::insert_many(members.iter().map(|account| member::ActiveModel {
            conversation_id: Set(id),
            account_id: Set(*account),
            last_read_seq: Set(0),
            last_activity_at: Set(now),
            joined_at: Set(now),
            muted: Set(false),
        }))
        .exec_without_returning(&txn)
        .await?;
        if actor.role.is_staff() {
            audit::record(&txn, actor, "conversation.start", "conversation", id).await?;
        }
        let started = Entry::Conversation {
            conversation_id: id,
        };
        let recorded = sync::record(&txn, &members, started).await?;
        txn.commit().await?;
        let positions = self.sequencer.positions(recorded).await;
        self.hub.membership_changed(members).await;
        let event = Event::ConversationStarted {
            conversation_id: id,
        };
        self.hub.publish_change(event, positions).await;
        self.get(actor, id).await
    }

    /// The caller's conversations, most recently active first.
    pub async fn list(
        &self,
        actor: &Actor,
        page: PageArgs,
    ) -> Result<Page<Conversation>, DomainError> {
        let account = actor.account_id.to_string();
        let scope = crate::cursor::scope(&[Some("conversations"), Some(&account)]);
        let pager = Pager {
            cursors: &self.cursors,
            scope: &scope,
            limits: Self::CONVERSATION_PAGE,
        };
        let keys = Keyset {
            sort: member::Column::LastActivityAt,
            id: member::Column::ConversationId,
            ascending: false,
        };
        let select = member::Entity::find().filter(member::Column::AccountId.eq(actor.account_id));
        let page = pager
            .read(&self.db, select, keys, page, |row: &member::Model| {
                ListPosition(row.last_activity_at, row.conversation_id)
            })
            .await?;
        let ids: Vec<Uuid> = page.items.iter().map(|m| m.conversation_id).collect();
        self.log_reads(actor, ids.iter().copied(), Purpose::Care)
            .await?;
        let mut described = self.describe(actor, &ids).await?;
        Ok(page.map(|row| {
            described
                .remove(&row.conversation_id)
                .expect("every listed conversation is described")
        }))
    }

    /// One conversation's metadata (members, counts, last activity).
    pub async fn get(&self, actor: &Actor, id: Uuid) -> Result<Conversation, DomainError> {
        let (_, access) = self.access(actor, id).await?;
        self.log_reads(actor, [id], access.purpose()).await?;
        let mut described = self.describe(actor, &[id]).await?;
        described.remove(&id).ok_or(DomainError::NotFound {
            entity: "conversation",
        })
    }

    /// Moves the caller's read marker forward to `seq` (never back); returns it.
    pub async fn mark_read(&self, actor: &Actor, id: Uuid, seq: i64) -> Result<i64, DomainError> {
        if seq < 0 {
            return Err(DomainError::invalid("seq", "must be at least 0"));
        }
        let (conversation, member) = self.member_access(actor, id).await?;
        let seq = seq.min(conversation.last_seq);
        if seq <= member.last_read_seq {
            return Ok(member.last_read_seq);
        }
        let txn = self.db.begin().await?;
        let moved = member::Entity::update_many()
            .col_expr(member::Column::LastReadSeq, Expr::value(seq))
            .filter(member::Column::ConversationId.eq(id))
            .filter(member::Column::AccountId.eq(actor.account_id))
            .filter(member::Column::LastReadSeq.lt(seq))
            .exec(&txn)
            .await?;
        if moved.rows_affected == 0 {
            // Another request moved it at least this far meanwhile, and told everyone.
            return Ok(seq);
        }
        let marker = Entry::ReadMarker {
            conversation_id: id,
            account_id: actor.account_id,
            seq,
        };
        let recorded = self.record_for_members(&txn, id, marker).await?;
        txn.commit().await?;
        let positions = self.sequencer.positions(recorded).await;
        let event = Event::ReadMarker {
            conversation_id: id,
            account_id: actor.account_id,
            seq,
        };
        self.hub.publish_change(event, positions).await;
        Ok(seq)
    }

    /// Conversations `ids` with members and last messages: three queries for any
    /// number of conversations.
    pub(super) async fn describe(
        &self,
        actor: &Actor,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Conversation>, DomainError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let conversations = conversation::Entity::find()
            .filter(conversation::Column::Id.is_in(ids.to_vec()))
            .all(&self.db)
            .await?;
        let members = member::Entity::find()
            .filter(member::Column::ConversationId.is_in(ids.to_vec()))
            .all(&self.db)
            .await?;
        let account_ids: HashSet<Uuid> = members.iter().map(|m| m.account_id).collect();
        let accounts: HashMap<Uuid, account::Model> = account::Entity::find()
            .filter(account::Column::Id.is_in(account_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let mut last = Condition::any();
        for c in conversations.iter().filter(|c| c.last_seq > 0) {
            last = last.add(
                Condition::all()
                    .add(message::Column::ConversationId.eq(c.id))
                    .add(message::Column::Seq.eq(c.last_seq)),
            );
        }
        let mut last_messages: HashMap<Uuid, Message> =
            if conversations.iter().any(|c| c.last_seq > 0) {
                message::Entity::find()
                    .filter(last)
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|m| (m.conversation_id, Message::from(m)))
                    .collect()
            } else {
                HashMap::new()
            };

        let mut by_conversation: HashMap<Uuid, Vec<Member>> = HashMap::new();
        for m in members {
            let Some(account) = accounts.get(&m.account_id) else {
                continue;
            };
            by_conversation
                .entry(m.conversation_id)
                .or_default()
                .push(Member {
                    account_id: m.account_id,
                    display_name: account.display_name.clone(),
                    role: Role::stored(&account.role)?,
                    last_read_seq: m.last_read_seq,
                });
        }
        Ok(conversations
            .into_iter()
            .map(|c| {
                let mut members = by_conversation.remove(&c.id).unwrap_or_default();
                members.sort_by_key(|m| m.account_id);
                let own = members.iter().find(|m| m.account_id == actor.account_id);
                let unread_count = own.map(|m| (c.last_seq - m.last_read_seq).max(0));
                let mut last_message = last_messages.remove(&c.id);
                if own.is_none() {
                    // Staff see that a message exists, never what it says.
                    if let Some(message) = &mut last_message {
                        message.body = None;
                    }
                }
                let conversation = Conversation {
                    id: c.id,
                    created_by: c.created_by,
                    created_at: c.created_at,
                    last_activity_at: c.last_activity_at,
                    members,
                    message_count: c.last_seq,
                    unread_count,
                    last_message,
                };
                (c.id, conversation)
            })
            .collect())
    }
}
