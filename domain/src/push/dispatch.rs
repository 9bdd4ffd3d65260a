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
use super::facts::{Delivery, Facts};
use super::provider::{Deliver, Outcome, Target};
use super::{Payload, Provider, PushSettings};
use crate::DomainError;
use crate::database::Db;

/// Rows claimed at once.
const BATCH: u64 = 200;
/// How long a claim holds before another node may take the rows.
const LEASE: Duration = Duration::from_secs(60);
/// How often the outbox is looked at when it had nothing due.
const POLL: Duration = Duration::from_millis(250);
/// Pushes in flight at once.
const CONCURRENT_SENDS: usize = 32;
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

    /// Claims one batch and delivers it; how many rows it claimed. A round reads
    /// what it needs about all its recipients at once and settles all its rows in
    /// one transaction, so the statements per push shrink as the backlog grows.
    async fn round(&self) -> Result<usize, DomainError> {
        let claimed = self.claim().await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let now = crate::clock::now();
        let oldest_allowed = now - chrono_of(self.max_age);
        let (expired, live): (Vec<_>, Vec<_>) =
            claimed.iter().partition(|row| row.sent_at < oldest_allowed);
        self.counters.expired(expired.len() as u64);
        let mut by_recipient: HashMap<Uuid, Vec<&outbox::Model>> = HashMap::new();
        for row in live {
            by_recipient.entry(row.account_id).or_default().push(row);
        }
        let recipients: Vec<Uuid> = by_recipient.keys().copied().collect();
        let facts = Facts::read(&self.db, &recipients).await?;
        let deliveries: Vec<Delivery> = by_recipient
            .into_iter()
            .filter_map(|(recipient, rows)| facts.delivery(recipient, &rows))
            .collect();
        // Owned sends (a target and its body each), so the futures borrow nothing.
        let mut sends: Vec<Send> = Vec::new();
        for (index, delivery) in deliveries.iter().enumerate() {
            let body = Arc::new(delivery.payload.clone());
            for target in &delivery.targets {
                sends.push((index, target.clone(), body.clone()));
            }
        }
        let outcomes: Vec<(usize, Target, Outcome)> = futures_util::stream::iter(sends)
            .map(|(index, target, body)| self.send(index, target, body))
            .buffer_unordered(CONCURRENT_SENDS)
            .collect()
            .await;
        let mut settlement = Settlement::default();
        for (index, target, outcome) in outcomes {
            let delivery = &deliveries[index];
            self.counters.sent(target.provider, outcome);
            match outcome {
                Outcome::Gone => settlement.gone.push(target.subscription_id),
                Outcome::RetryLater { after } => settlement.retries.push(outbox::Model {
                    id: Uuid::now_v7(),
                    subscription_id: Some(target.subscription_id),
                    due_at: now + chrono_of(retry_delay(delivery.attempts, after)),
                    attempts: delivery.attempts,
                    ..delivery.latest.clone()
                }),
                Outcome::Delivered | Outcome::Rejected | Outcome::Refused => {}
            }
        }
        settlement.done = claimed.iter().map(|row| row.id).collect();
        self.settle(settlement).await?;
        Ok(claimed.len())
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

    /// Pushes `body` to `target` through its provider; a provider this node does not
    /// have rejects it.
    async fn send(
        &self,
        index: usize,
        target: Target,
        body: Arc<Payload>,
    ) -> (usize, Target, Outcome) {
        let outcome = match self.providers.0.get(&target.provider) {
            Some(sender) => sender.deliver(&target, &body).await,
            None => Outcome::Rejected,
        };
        (index, target, outcome)
    }

    /// Deletes the claimed rows and the gone devices, and stores the retries, in
    /// one transaction.
    async fn settle(&self, settlement: Settlement) -> Result<(), DomainError> {
        let txn = self.db.begin().await?;
        outbox::Entity::delete_many()
            .filter(outbox::Column::Id.is_in(settlement.done))
            .exec(&txn)
            .await?;
        if !settlement.gone.is_empty() {
            subscription::Entity::delete_many()
                .filter(subscription::Column::Id.is_in(settlement.gone))
                .exec(&txn)
                .await?;
        }
        if !settlement.retries.is_empty() {
            let retries = settlement
                .retries
                .into_iter()
                .map(outbox::ActiveModel::from);
            outbox::Entity::insert_many(retries)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

/// What one round ends with.
#[derive(Default)]
struct Settlement {
    /// Every claimed row: delivered, dropped, or replaced by a retry.
    done: Vec<Uuid>,
    gone: Vec<Uuid>,
    retries: Vec<outbox::Model>,
}

/// One push to one device: the index of its delivery, the device and the payload.
type Send = (usize, Target, Arc<Payload>);

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
            topic: row.topic,
        })
    }
}
