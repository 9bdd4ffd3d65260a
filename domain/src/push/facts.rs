//! What a dispatcher round knows about its recipients (read markers, mute switches,
//! unread totals, devices), read in three statements for the whole batch, and the one
//! push each recipient is owed.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::entity::{outbox, subscription};
use super::payload::Payload;
use super::provider::Target;
use crate::DomainError;
use crate::chat::{conversation, member};
use crate::database::Db;

/// One push to a recipient's devices, standing for one or more rows.
pub(super) struct Delivery {
    pub targets: Vec<Target>,
    pub payload: Payload,
    /// The newest message pushed: what a retry row stands for.
    pub latest: outbox::Model,
    pub attempts: i32,
}

/// What a round knows about its recipients, read in three statements.
pub(super) struct Facts {
    /// `(account, conversation)`: the read marker and the mute switch.
    members: HashMap<(Uuid, Uuid), (i64, bool)>,
    unread_totals: HashMap<Uuid, i64>,
    devices: HashMap<Uuid, Vec<Target>>,
}

impl Facts {
    pub(super) async fn read(db: &Db, recipients: &[Uuid]) -> Result<Self, DomainError> {
        let rows = member::Entity::find()
            .filter(member::Column::AccountId.is_in(recipients.iter().copied()))
            .all(db)
            .await?;
        let last_seqs: HashMap<Uuid, i64> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .column(conversation::Column::LastSeq)
            .filter(conversation::Column::Id.is_in(rows.iter().map(|m| m.conversation_id)))
            .into_tuple::<(Uuid, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let mut unread_totals: HashMap<Uuid, i64> = HashMap::new();
        for member in &rows {
            let last = last_seqs.get(&member.conversation_id).copied().unwrap_or(0);
            *unread_totals.entry(member.account_id).or_default() +=
                Ord::max(last - member.last_read_seq, 0);
        }
        let now = crate::clock::now();
        let mut devices: HashMap<Uuid, Vec<Target>> = HashMap::new();
        for row in subscription::Entity::find()
            .filter(subscription::Column::AccountId.is_in(recipients.iter().copied()))
            .all(db)
            .await?
        {
            if row.expires_at.is_none_or(|at| at > now) {
                let account = row.account_id;
                devices
                    .entry(account)
                    .or_default()
                    .push(Target::try_from(row)?);
            }
        }
        Ok(Self {
            members: rows
                .into_iter()
                .map(|m| {
                    (
                        (m.account_id, m.conversation_id),
                        (m.last_read_seq, m.muted),
                    )
                })
                .collect(),
            unread_totals,
            devices,
        })
    }

    /// The push `rows` owe `recipient`: none when the recipient read every message,
    /// muted its conversation or left it; else one for the newest, counting them.
    pub(super) fn delivery(&self, recipient: Uuid, rows: &[&outbox::Model]) -> Option<Delivery> {
        let unread: Vec<&outbox::Model> = rows
            .iter()
            .copied()
            .filter(|row| {
                self.members
                    .get(&(recipient, row.conversation_id))
                    .is_some_and(|&(read, muted)| !muted && row.seq > read)
            })
            .collect();
        let latest = unread.iter().max_by_key(|row| (row.sent_at, row.seq))?;
        // Retry rows are owed to one device each; a first row to every device.
        let only: Option<Vec<Uuid>> = unread.iter().map(|row| row.subscription_id).collect();
        let targets: Vec<Target> = self
            .devices
            .get(&recipient)?
            .iter()
            .filter(|t| {
                only.as_ref()
                    .is_none_or(|ids| ids.contains(&t.subscription_id))
            })
            .cloned()
            .collect();
        let payload = Payload::message(
            latest.conversation_id,
            latest.seq,
            self.unread_totals.get(&recipient).copied().unwrap_or(0),
            unread.len(),
        );
        Some(Delivery {
            targets,
            payload,
            latest: (*latest).clone(),
            attempts: unread.iter().map(|row| row.attempts).max().unwrap_or(1),
        })
    }
}
