//! The dispatcher: every `portal serve` runs one. It claims due outbox rows (on
//! PostgreSQL and MariaDB with `FOR UPDATE SKIP LOCKED`, so two nodes never take the
//! same row; SQLite has one writer), pushes to the recipient's devices, and deletes
//! the rows. A claim is a lease: a node that dies mid-send leaves its rows to come due
//! again, so every push is delivered at least once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::counters::PushCounters;
use super::entity::{outbox, subscription};
use super::payload::Payload;
use super::provider::{Deliver, Outcome, Target};
use super::{Provider, PushSettings};
use crate::DomainError;
use crate::chat::{conversation, member};
use crate::database::Db;

/// Rows claimed at once.
const BATCH: u64 = 200;
/// How long a claim holds before another node may take the rows.
const LEASE: Duration = Duration::from_secs(60);
/// How often the outbox is looked at when it had nothing due.
const POLL: Duration = Duration::from_millis(250);
/// Recipients served at once.
const CONCURRENT_RECIPIENTS: usize = 32;
/// The first retry's delay; each further one doubles it, up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The providers this node sends through.
#[derive(Debug, Clone, Default)]
pub(crate) struct Providers(HashMap<Provider, Arc<dyn Deliver>>);

impl Providers {
    pub(crate) fn with(mut self, provider: Provider, sender: Arc<dyn Deliver>) -> Self {
        self.0.insert(provider, sender);
        self
    }
}

/// Delivers the outbox.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    db: Db,
    providers: Providers,
    max_age: Duration,
    counters: PushCounters,
}

impl Dispatcher {
    pub(crate) fn new(
        db: Db,
        providers: Providers,
        settings: &PushSettings,
        counters: PushCounters,
    ) -> Self {
        Self {
            db,
            providers,
            max_age: settings.max_age,
            counters,
        }
    }

    /// Runs until `stop` resolves.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let delivered = match self.round().await {
                Ok(claimed) => claimed,
                Err(err) => {
                    tracing::warn!(error = %err, "the push outbox could not be read");
                    0
                }
            };
            if delivered == 0 {
                tokio::select! {
                    () = tokio::time::sleep(POLL) => {}
                    () = &mut stop => return,
                }
            }
        }
    }

    /// Claims one batch and delivers it; how many rows it claimed.
    async fn round(&self) -> Result<usize, DomainError> {
        let claimed = self.claim().await?;
        let count = claimed.len();
        let mut by_recipient: HashMap<Uuid, Vec<outbox::Model>> = HashMap::new();
        for row in claimed {
            by_recipient.entry(row.account_id).or_default().push(row);
        }
        let results: Vec<Result<(), DomainError>> = futures_util::stream::iter(by_recipient)
            .map(|(recipient, rows)| self.serve(recipient, rows))
            .buffer_unordered(CONCURRENT_RECIPIENTS)
            .collect()
            .await;
        for result in results {
            if let Err(err) = result {
                // The rows stay claimed; their lease runs out and they are tried again.
                tracing::warn!(error = %err, "a push could not be completed");
            }
        }
        Ok(count)
    }

    /// Takes due rows for this node: their `due_at` moves a lease ahead, so that
    /// no other node takes them unless this one dies.
    async fn claim(&self) -> Result<Vec<outbox::Model>, DomainError> {
        let now = crate::clock::now();
        let txn = self.db.begin().await?;
        let mut due = outbox::Entity::find()
            .filter(outbox::Column::DueAt.lte(now))
            .order_by_asc(outbox::Column::DueAt)
            .limit(BATCH);
        if txn.get_database_backend() != DbBackend::Sqlite {
            due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = due.all(&txn).await?;
        if rows.is_empty() {
            txn.commit().await?;
            return Ok(rows);
        }
        outbox::Entity::update_many()
            .col_expr(outbox::Column::DueAt, Expr::value(now + chrono_of(LEASE)))
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .filter(outbox::Column::Id.is_in(rows.iter().map(|r| r.id)))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// Pushes what `rows` owe `recipient` (one push, however many rows), then
    /// settles them: deleted, or one retry row per device that asked for one.
    async fn serve(&self, recipient: Uuid, rows: Vec<outbox::Model>) -> Result<(), DomainError> {
        let now = crate::clock::now();
        let oldest_allowed = now - chrono_of(self.max_age);
        let (expired, live): (Vec<_>, Vec<_>) =
            rows.iter().partition(|row| row.sent_at < oldest_allowed);
        self.counters.expired(expired.len() as u64);
        let unread = self.still_unread(recipient, &live).await?;
        let mut retries = Vec::new();
        if let Some(latest) = unread.iter().max_by_key(|row| (row.sent_at, row.seq)) {
            let payload = Payload::message(
                latest.conversation_id,
                latest.seq,
                self.unread_total(recipient).await?,
                unread.len(),
            );
            let body = serde_json::to_vec(&payload).unwrap_or_default();
            let attempts = unread.iter().map(|row| row.attempts).max().unwrap_or(1);
            for (target, outcome) in self.push(recipient, &unread, &body).await? {
                self.counters.sent(target.provider, outcome);
                match outcome {
                    Outcome::Gone => {
                        subscription::Entity::delete_by_id(target.subscription_id)
                            .exec(&self.db)
                            .await?;
                    }
                    Outcome::RetryLater { after } => retries.push(outbox::Model {
                        id: Uuid::now_v7(),
                        subscription_id: Some(target.subscription_id),
                        due_at: now + chrono_of(retry_delay(attempts, after)),
                        attempts,
                        ..(*latest).clone()
                    }),
                    Outcome::Delivered | Outcome::Rejected | Outcome::Refused => {}
                }
            }
        }
        self.settle(&rows, retries).await
    }

    /// The rows whose message the recipient has not read, in a conversation they
    /// are still a member of and have not muted.
    async fn still_unread<'a>(
        &self,
        recipient: Uuid,
        rows: &[&'a outbox::Model],
    ) -> Result<Vec<&'a outbox::Model>, DomainError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let conversations: Vec<Uuid> = rows.iter().map(|row| row.conversation_id).collect();
        let markers: HashMap<Uuid, (i64, bool)> = member::Entity::find()
            .filter(member::Column::AccountId.eq(recipient))
            .filter(member::Column::ConversationId.is_in(conversations))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.conversation_id, (m.last_read_seq, m.muted)))
            .collect();
        Ok(rows
            .iter()
            .copied()
            .filter(|row| {
                markers
                    .get(&row.conversation_id)
                    .is_some_and(|&(read, muted)| !muted && row.seq > read)
            })
            .collect())
    }

    /// Messages the recipient has not read, over every conversation of theirs.
    async fn unread_total(&self, recipient: Uuid) -> Result<i64, DomainError> {
        let markers: Vec<(Uuid, i64)> = member::Entity::find()
            .select_only()
            .column(member::Column::ConversationId)
            .column(member::Column::LastReadSeq)
            .filter(member::Column::AccountId.eq(recipient))
            .into_tuple()
            .all(&self.db)
            .await?;
        let last: HashMap<Uuid, i64> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .column(conversation::Column::LastSeq)
            .filter(conversation::Column::Id.is_in(markers.iter().map(|(id, _)| *id)))
            .into_tuple::<(Uuid, i64)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        Ok(markers
            .iter()
            .map(|(id, read)| Ord::max(last.get(id).copied().unwrap_or(0) - read, 0))
            .sum())
    }

    /// Sends `body` to the devices `rows` are owed to, all at once.
    async fn push(
        &self,
        recipient: Uuid,
        rows: &[&outbox::Model],
        body: &[u8],
    ) -> Result<Vec<(Target, Outcome)>, DomainError> {
        let mut devices =
            subscription::Entity::find().filter(subscription::Column::AccountId.eq(recipient));
        // Retry rows are owed to one device each; a first row to every device.
        if rows.iter().all(|row| row.subscription_id.is_some()) {
            devices = devices.filter(
                subscription::Column::Id.is_in(rows.iter().filter_map(|row| row.subscription_id)),
            );
        }
        let now = crate::clock::now();
        let targets: Vec<Target> = devices
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|row| row.expires_at.is_none_or(|at| at > now))
            .filter_map(|row| Target::try_from(row).ok())
            .collect();
        let sends = targets.into_iter().filter_map(|target| {
            let sender = self.providers.0.get(&target.provider)?.clone();
            Some(async move {
                let outcome = sender.deliver(&target, body).await;
                (target, outcome)
            })
        });
        Ok(futures_util::future::join_all(sends).await)
    }

    /// Deletes the claimed rows and stores the retries, in one transaction.
    async fn settle(
        &self,
        rows: &[outbox::Model],
        retries: Vec<outbox::Model>,
    ) -> Result<(), DomainError> {
        let txn = self.db.begin().await?;
        outbox::Entity::delete_many()
            .filter(outbox::Column::Id.is_in(rows.iter().map(|row| row.id)))
            .exec(&txn)
            .await?;
        if !retries.is_empty() {
            outbox::Entity::insert_many(retries.into_iter().map(outbox::ActiveModel::from))
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

/// When to try again: what the provider asked for, or an exponential backoff with
/// jitter (half to all of `FIRST_BACKOFF * 2^(attempts-1)`, at most `MAX_BACKOFF`).
fn retry_delay(attempts: i32, asked: Option<Duration>) -> Duration {
    if let Some(asked) = asked {
        return asked.min(MAX_BACKOFF);
    }
    let exponent = Ord::min(u32::try_from(attempts.saturating_sub(1)).unwrap_or(0), 16);
    let full = FIRST_BACKOFF.saturating_mul(1 << exponent).min(MAX_BACKOFF);
    full.mul_f64(rand::Rng::gen_range(&mut rand::thread_rng(), 0.5..=1.0))
}

fn chrono_of(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

impl TryFrom<subscription::Model> for Target {
    type Error = DomainError;

    fn try_from(row: subscription::Model) -> Result<Self, DomainError> {
        Ok(Self {
            subscription_id: row.id,
            provider: Provider::stored(&row.kind)?,
            address: row.address,
            p256dh: row.p256dh,
            auth: row.auth,
        })
    }
}
