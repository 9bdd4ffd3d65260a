//! The sequencer: after a change commits, its writer waits here for the change's
//! positions. Writers that arrive while a round runs are served together by the next
//! one, so a node runs one round at a time and a busy account's changes are placed
//! many to a commit, not one commit each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::entity::pending;
use super::record::{Positions, Recorded};
use super::sequence::{Moved, sequence};
use crate::DomainError;
use crate::database::Db;

/// The position a reader gets for a change whose place another node's round (or the
/// leftover sweep) gave out: higher than any real one, so a stream that receives it
/// reads what follows its last position from the feed instead.
pub const UNLEARNED: i64 = i64::MAX;

/// Rounds for which a change placed for a writer that was not yet waiting is kept
/// for it.
const KEEP_ROUNDS: u64 = 64;

/// How often a node looks for changes whose writer never handed them over (it
/// stopped between its commit and its round), and how old they must be by then.
const SWEEP_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Sequencer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    waiting: Mutex<Vec<Waiter>>,
    round: Arc<tokio::sync::Mutex<Unclaimed>>,
}

#[derive(Debug)]
struct Waiter {
    recorded: Recorded,
    reply: oneshot::Sender<Positions>,
}

/// Changes a round placed whose writer was not in it: it committed before the round
/// read, and came to wait just after.
#[derive(Debug, Default)]
struct Unclaimed {
    round: u64,
    placed: HashMap<i64, (Moved, u64)>,
}

impl Sequencer {
    pub fn new(db: Db) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                waiting: Mutex::default(),
                round: Arc::default(),
            }),
        }
    }

    /// The position of a committed change in each reader's feed. A reader whose
    /// position this node did not learn gets `UNLEARNED`; if the round fails the
    /// change waits for the sweep, and every reader gets `UNLEARNED`.
    pub(crate) async fn positions(&self, recorded: Recorded) -> Positions {
        if recorded.pending.is_empty() {
            return Positions::new();
        }
        let audience = recorded.audience.clone();
        let (reply, mut answer) = oneshot::channel();
        self.lock_waiting().push(Waiter { recorded, reply });
        let mut turn = self.inner.round.clone().lock_owned().await;
        // An earlier round served this writer while it waited for its turn.
        if let Ok(positions) = answer.try_recv() {
            return positions;
        }
        let batch = std::mem::take(&mut *self.lock_waiting());
        // Its own task, so that a writer dropped mid-round (its client went away)
        // does not leave the others in the batch without an answer.
        let sequencer = self.clone();
        let round = tokio::spawn(async move { sequencer.run(&mut turn, batch).await });
        if let Err(err) = round.await {
            tracing::error!(error = %err, "a sequencing round failed");
        }
        answer
            .await
            .unwrap_or_else(|_| audience.into_iter().map(|a| (a, UNLEARNED)).collect())
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, Vec<Waiter>> {
        self.inner.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One round for `batch`: what earlier rounds placed for them first, then one
    /// database round for the rest.
    async fn run(&self, unclaimed: &mut Unclaimed, batch: Vec<Waiter>) {
        unclaimed.round += 1;
        let this_round = unclaimed.round;
        let needed: Vec<Uuid> = batch
            .iter()
            .filter(|waiter| {
                waiter
                    .recorded
                    .pending
                    .iter()
                    .any(|id| !unclaimed.placed.contains_key(id))
            })
            .flat_map(|waiter| waiter.recorded.audience.iter().copied())
            .collect();
        if !needed.is_empty() {
            match sequence(&self.inner.db, &needed).await {
                Ok(moved) => {
                    for placed in moved {
                        unclaimed
                            .placed
                            .insert(placed.pending, (placed, this_round));
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "feed positions not given out; the sweep will")
                }
            }
        }
        for waiter in batch {
            let mut positions: Positions = waiter
                .recorded
                .audience
                .iter()
                .map(|account| (*account, UNLEARNED))
                .collect();
            for id in &waiter.recorded.pending {
                if let Some((placed, _)) = unclaimed.placed.remove(id) {
                    positions.insert(placed.account_id, placed.position);
                }
            }
            let _ = waiter.reply.send(positions);
        }
        unclaimed
            .placed
            .retain(|_, (_, round)| *round + KEEP_ROUNDS > this_round);
    }
}

/// Places changes left waiting longer than a sweep interval (their writer stopped
/// before its round), every interval until `stop` resolves.
pub async fn sweep_every(db: Db, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = tokio::time::sleep(SWEEP_EVERY) => {}
            () = &mut stop => return,
        }
        if let Err(err) = sweep(&db).await {
            tracing::warn!(error = %err, "left-over feed changes could not be placed");
        }
    }
}

async fn sweep(db: &Db) -> Result<(), DomainError> {
    let cutoff = crate::clock::now() - chrono::Duration::from_std(SWEEP_EVERY).unwrap_or_default();
    let accounts: Vec<Uuid> = pending::Entity::find()
        .select_only()
        .column(pending::Column::AccountId)
        .distinct()
        .filter(pending::Column::RecordedAt.lt(cutoff))
        .limit(500)
        .into_tuple()
        .all(db)
        .await?;
    let placed = sequence(db, &accounts).await?;
    if !placed.is_empty() {
        tracing::info!(placed = placed.len(), "left-over feed changes placed");
    }
    Ok(())
}
