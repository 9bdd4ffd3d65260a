//! The export (GDPR Art. 15): everything held about one person, as a stream of items
//! read in keyset batches by a task of its own, which stays at most [`AHEAD`] batches
//! ahead of the client: an export of any size holds a few batches in memory.

use std::collections::HashMap;

use futures_util::Stream;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{ExportedConversation, ExportedMember, PrivacyService, Revision};
use crate::DomainError;
use crate::access_log::{AccessEntry, Purpose, Read, Resource};
use crate::accounts::{Account, account};
use crate::actor::{Actor, Role};
use crate::audit::{AuditEntry, entry};
use crate::chat::{Message, conversation, member, message, revision};
use crate::directory::{Therapist, therapist_by_id};
use crate::push::{Subscription, subscription};

/// Conversations read at once (with all their members).
const CONVERSATION_BATCH: u64 = 100;
/// Messages, access-log and audit entries read at once.
const ROW_BATCH: u64 = 500;
/// Batches read ahead of the one the client is receiving.
const AHEAD: usize = 2;

/// One item of an export, in the order they come: the account, then each
/// conversation with its read markers followed by its messages (each of the person's
/// own followed by its earlier revisions), the person's devices, the access-log
/// entries about them, the audit entries targeting them, and [`ExportItem::End`].
#[derive(Debug, Clone)]
pub enum ExportItem {
    Account {
        account: Account,
        /// The directory profile of a therapist.
        profile: Option<Therapist>,
    },
    Conversation(ExportedConversation),
    ReadMarker {
        conversation_id: Uuid,
        account_id: Uuid,
        seq: i64,
    },
    Message(Message),
    Revision(Revision),
    PushSubscription(Subscription),
    Access(AccessEntry),
    Audit(AuditEntry),
    /// The last item: the export is whole. A stream that ends without it was cut
    /// short (by a failure, logged on the server).
    End {
        /// Items before this one.
        items: u64,
    },
}

impl PrivacyService {
    /// Everything held about `person`, in batches: their own, or anyone's for an
    /// admin. Logged as an export before anything is read; conversations it reads
    /// that hold other clients' data are logged for those clients too.
    pub async fn export(
        &self,
        actor: &Actor,
        person: Uuid,
    ) -> Result<impl Stream<Item = Result<Vec<ExportItem>, DomainError>> + use<>, DomainError> {
        if person != actor.account_id {
            actor.require_admin("export another person's data")?;
        }
        let account = self.person(person).await?;
        let read = Read {
            client: person,
            resource: Resource::Export(Uuid::now_v7()),
            purpose: Purpose::Export,
        };
        self.access_log.record(actor, [read]).await?;
        let (out, batches) = mpsc::channel(AHEAD);
        let walk = ExportWalk {
            service: self.clone(),
            actor: actor.clone(),
            person: account,
            out,
            items: 0,
        };
        tokio::spawn(walk.run());
        Ok(futures_util::stream::unfold(batches, |mut batches| async {
            batches.recv().await.map(|batch| (batch, batches))
        }))
    }
}

/// Why a walk stopped early.
enum Halt {
    Failed(DomainError),
    /// The client went away.
    Abandoned,
}

impl From<DomainError> for Halt {
    fn from(err: DomainError) -> Self {
        Self::Failed(err)
    }
}

impl From<DbErr> for Halt {
    fn from(err: DbErr) -> Self {
        Self::Failed(err.into())
    }
}

/// One export being read.
struct ExportWalk {
    service: PrivacyService,
    actor: Actor,
    person: Account,
    out: mpsc::Sender<Result<Vec<ExportItem>, DomainError>>,
    items: u64,
}

impl ExportWalk {
    async fn run(mut self) {
        if let Err(Halt::Failed(err)) = self.sections().await {
            tracing::error!(error = %err, "an export failed part-way; its stream ends without its end item");
            let _ = self.out.send(Err(err)).await;
        }
    }

    async fn sections(&mut self) -> Result<(), Halt> {
        self.account().await?;
        self.conversations().await?;
        self.push_subscriptions().await?;
        self.access_entries().await?;
        self.audit_entries().await?;
        let end = ExportItem::End { items: self.items };
        self.out
            .send(Ok(vec![end]))
            .await
            .map_err(|_| Halt::Abandoned)
    }

    async fn emit(&mut self, items: Vec<ExportItem>) -> Result<(), Halt> {
        if items.is_empty() {
            return Ok(());
        }
        self.items += items.len() as u64;
        self.out.send(Ok(items)).await.map_err(|_| Halt::Abandoned)
    }

    async fn account(&mut self) -> Result<(), Halt> {
        let profile = match self.person.therapist_id {
            Some(id) => Some(therapist_by_id(&self.service.db, id).await?),
            None => None,
        };
        let account = self.person.clone();
        self.emit(vec![ExportItem::Account { account, profile }])
            .await
    }

    async fn conversations(&mut self) -> Result<(), Halt> {
        let db = self.service.db.clone();
        let mut after = None;
        loop {
            let mut select =
                member::Entity::find().filter(member::Column::AccountId.eq(self.person.id));
            if let Some(after) = after {
                select = select.filter(member::Column::ConversationId.gt(after));
            }
            let mine = select
                .order_by_asc(member::Column::ConversationId)
                .limit(CONVERSATION_BATCH)
                .all(&db)
                .await?;
            let Some(last) = mine.last() else {
                return Ok(());
            };
            after = Some(last.conversation_id);
            let ids: Vec<Uuid> = mine.iter().map(|row| row.conversation_id).collect();
            let conversations = conversation::Entity::find()
                .filter(conversation::Column::Id.is_in(ids.clone()))
                .order_by_asc(conversation::Column::Id)
                .all(&db)
                .await?;
            let members = member::Entity::find()
                .filter(member::Column::ConversationId.is_in(ids))
                .order_by_asc(member::Column::ConversationId)
                .order_by_asc(member::Column::AccountId)
                .all(&db)
                .await?;
            let people = self.people(&members).await?;
            self.log_other_clients(&members, &people).await?;
            let muted: HashMap<Uuid, bool> = mine
                .iter()
                .map(|row| (row.conversation_id, row.muted))
                .collect();
            let mut items = Vec::new();
            for conversation in &conversations {
                let in_it = members
                    .iter()
                    .filter(|row| row.conversation_id == conversation.id);
                let mut exported = ExportedConversation {
                    id: conversation.id,
                    created_by: conversation.created_by,
                    created_at: conversation.created_at,
                    last_activity_at: conversation.last_activity_at,
                    message_count: conversation.last_seq,
                    muted: muted.get(&conversation.id).copied().unwrap_or_default(),
                    members: Vec::new(),
                };
                let mut markers = Vec::new();
                for row in in_it {
                    let (display_name, role) = people
                        .get(&row.account_id)
                        .cloned()
                        .ok_or(DomainError::NotFound { entity: "account" })?;
                    exported.members.push(ExportedMember {
                        account_id: row.account_id,
                        display_name,
                        role,
                        joined_at: row.joined_at,
                    });
                    markers.push(ExportItem::ReadMarker {
                        conversation_id: row.conversation_id,
                        account_id: row.account_id,
                        seq: row.last_read_seq,
                    });
                }
                items.push(ExportItem::Conversation(exported));
                items.append(&mut markers);
            }
            self.emit(items).await?;
            for conversation in &conversations {
                self.messages(conversation.id).await?;
            }
            if (mine.len() as u64) < CONVERSATION_BATCH {
                return Ok(());
            }
        }
    }

    /// Display names and roles of the members in `members`.
    async fn people(
        &self,
        members: &[member::Model],
    ) -> Result<HashMap<Uuid, (String, Role)>, Halt> {
        let mut ids: Vec<Uuid> = members.iter().map(|row| row.account_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let rows = account::Entity::find()
            .select_only()
            .column(account::Column::Id)
            .column(account::Column::DisplayName)
            .column(account::Column::Role)
            .filter(account::Column::Id.is_in(ids))
            .into_tuple::<(Uuid, String, String)>()
            .all(&self.service.db)
            .await?;
        let mut people = HashMap::with_capacity(rows.len());
        for (id, name, role) in rows {
            people.insert(id, (name, Role::stored(&role)?));
        }
        Ok(people)
    }

    /// The person's conversations hold the data of the other clients in them: their
    /// export reads it, which the access log records for those clients.
    async fn log_other_clients(
        &self,
        members: &[member::Model],
        people: &HashMap<Uuid, (String, Role)>,
    ) -> Result<(), Halt> {
        let reads = members
            .iter()
            .filter(|row| row.account_id != self.person.id)
            .filter(|row| matches!(people.get(&row.account_id), Some((_, Role::Client))))
            .map(|row| Read {
                client: row.account_id,
                resource: Resource::Conversation(row.conversation_id),
                purpose: Purpose::Export,
            });
        Ok(self.service.access_log.record(&self.actor, reads).await?)
    }

    /// Every message of `conversation`, tombstones included; each of the person's
    /// own followed by the bodies it replaced.
    async fn messages(&mut self, conversation: Uuid) -> Result<(), Halt> {
        let db = self.service.db.clone();
        let mut after = 0;
        loop {
            let rows = message::Entity::find()
                .filter(message::Column::ConversationId.eq(conversation))
                .filter(message::Column::Seq.gt(after))
                .order_by_asc(message::Column::Seq)
                .limit(ROW_BATCH)
                .all(&db)
                .await?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            after = last.seq;
            let full = rows.len() as u64 == ROW_BATCH;
            let replaced: Vec<i64> = rows
                .iter()
                .filter(|row| row.sender_id == self.person.id)
                .filter(|row| row.edited_at.is_some() || row.deleted_at.is_some())
                .map(|row| row.seq)
                .collect();
            let revisions = if replaced.is_empty() {
                Vec::new()
            } else {
                revision::Entity::find()
                    .filter(revision::Column::ConversationId.eq(conversation))
                    .filter(revision::Column::Seq.is_in(replaced))
                    .order_by_asc(revision::Column::Seq)
                    .order_by_asc(revision::Column::Revision)
                    .all(&db)
                    .await?
            };
            let mut revisions = revisions.into_iter().peekable();
            let mut items = Vec::with_capacity(rows.len() + revisions.len());
            for row in rows {
                let seq = row.seq;
                items.push(ExportItem::Message(row.into()));
                while let Some(replaced) = revisions.next_if(|r| r.seq == seq) {
                    items.push(ExportItem::Revision(Revision {
                        conversation_id: replaced.conversation_id,
                        seq: replaced.seq,
                        revision: replaced.revision,
                        body: replaced.body,
                        replaced_at: replaced.replaced_at,
                    }));
                }
            }
            self.emit(items).await?;
            if !full {
                return Ok(());
            }
        }
    }

    /// The person's devices, never their keys or addresses.
    async fn push_subscriptions(&mut self) -> Result<(), Halt> {
        let rows = subscription::Entity::find()
            .filter(subscription::Column::AccountId.eq(self.person.id))
            .order_by_asc(subscription::Column::Id)
            .all(&self.service.db)
            .await?;
        let items = rows
            .into_iter()
            .map(|row| Subscription::try_from(row).map(ExportItem::PushSubscription))
            .collect::<Result<Vec<_>, _>>()?;
        self.emit(items).await
    }

    /// Who read the person's data, oldest first (the export's own entry included).
    async fn access_entries(&mut self) -> Result<(), Halt> {
        let mut after = None;
        loop {
            let entries = self
                .service
                .access_log
                .about(self.person.id, after, ROW_BATCH)
                .await?;
            let full = entries.len() as u64 == ROW_BATCH;
            after = entries.last().map(|entry| entry.id);
            self.emit(entries.into_iter().map(ExportItem::Access).collect())
                .await?;
            if !full {
                return Ok(());
            }
        }
    }

    /// Staff actions on the person's account or directory profile, oldest first.
    async fn audit_entries(&mut self) -> Result<(), Halt> {
        let targets: Vec<Uuid> = std::iter::once(self.person.id)
            .chain(self.person.therapist_id)
            .collect();
        let mut after = None;
        loop {
            let mut select =
                entry::Entity::find().filter(entry::Column::TargetId.is_in(targets.clone()));
            if let Some(after) = after {
                select = select.filter(entry::Column::Id.gt(after));
            }
            let rows = select
                .order_by_asc(entry::Column::Id)
                .limit(ROW_BATCH)
                .all(&self.service.db)
                .await?;
            let full = rows.len() as u64 == ROW_BATCH;
            after = rows.last().map(|row| row.id);
            self.emit(
                rows.into_iter()
                    .map(|row| ExportItem::Audit(row.into()))
                    .collect(),
            )
            .await?;
            if !full {
                return Ok(());
            }
        }
    }
}
