//! Presence, held in memory and never read from or written to the database on a
//! status change. Who may see whom (contacts: accounts sharing a conversation) is
//! loaded once when a user's first session on this node opens, kept while they are
//! connected, and reloaded when their conversations change. A change is published on
//! the bus once; each node hands it only to its connected users who have the changed
//! account as a contact. Rapid flaps within a second are coalesced into one change.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::metrics::HubMetrics;
use super::publisher::Publisher;
use super::{Event, Status};
use crate::DomainError;
use crate::database::Db;
use crate::limits::MAX_PRESENCE_IDS;

/// Changes of one account closer together than this are coalesced.
const COALESCE: Duration = Duration::from_secs(1);

struct LocalUser {
    sessions: usize,
    contacts: Arc<HashSet<Uuid>>,
    /// Bumped by every connect, so a pending offline-after-grace can tell it is stale.
    epoch: u64,
}

#[derive(Default)]
struct Flap {
    published: Option<(Status, Instant)>,
    pending: Option<Status>,
    flush_scheduled: bool,
}

/// The presence state of one node. It reaches the rest of real time through two
/// narrow handles: the publisher (to put a change on the bus) and the counters.
pub(crate) struct PresenceBoard {
    db: Db,
    grace: Duration,
    publisher: Publisher,
    metrics: Arc<HubMetrics>,
    statuses: RwLock<HashMap<Uuid, Status>>,
    local: Mutex<HashMap<Uuid, LocalUser>>,
    /// Changed account -> local accounts that have it as a contact.
    watchers: RwLock<HashMap<Uuid, HashSet<Uuid>>>,
    flaps: Mutex<HashMap<Uuid, Flap>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl PresenceBoard {
    pub(crate) fn new(
        db: Db,
        grace: Duration,
        publisher: Publisher,
        metrics: Arc<HubMetrics>,
    ) -> Self {
        Self {
            db,
            grace,
            publisher,
            metrics,
            statuses: RwLock::default(),
            local: Mutex::default(),
            watchers: RwLock::default(),
            flaps: Mutex::default(),
        }
    }

    /// Applies a change that arrived on the bus.
    pub(crate) fn record(&self, account: Uuid, status: Status) {
        let mut statuses = self.statuses.write().unwrap_or_else(|p| p.into_inner());
        if status == Status::Offline {
            statuses.remove(&account);
        } else {
            statuses.insert(account, status);
        }
    }

    pub(crate) fn status_of(&self, account: Uuid) -> Status {
        self.statuses
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&account)
            .copied()
            .unwrap_or(Status::Offline)
    }

    /// Local users who see `account`'s presence.
    pub(crate) fn watchers_of(&self, account: Uuid) -> Vec<Uuid> {
        self.watchers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&account)
            .map(|w| w.iter().copied().collect())
            .unwrap_or_default()
    }

    fn watch(&self, watcher: Uuid, old: &HashSet<Uuid>, new: &HashSet<Uuid>) {
        let mut watchers = self.watchers.write().unwrap_or_else(|p| p.into_inner());
        for contact in old.difference(new) {
            if let Some(set) = watchers.get_mut(contact) {
                set.remove(&watcher);
                if set.is_empty() {
                    watchers.remove(contact);
                }
            }
        }
        for contact in new {
            watchers.entry(*contact).or_default().insert(watcher);
        }
    }

    /// Loads `account`'s contacts (who shares a conversation is chat's knowledge);
    /// the statements it took are counted.
    async fn load_contacts(&self, account: Uuid) -> Result<HashSet<Uuid>, DomainError> {
        let (contacts, statements) = crate::chat::contacts_of(&self.db, account).await?;
        self.metrics
            .presence_db_statements
            .fetch_add(statements, Ordering::Relaxed);
        Ok(contacts)
    }

    /// Reloads the contacts of those `accounts` connected here, in the background.
    pub(crate) fn reload_contacts(self: &Arc<Self>, accounts: &[Uuid]) {
        let connected: Vec<Uuid> = {
            let local = lock(&self.local);
            accounts
                .iter()
                .copied()
                .filter(|a| local.contains_key(a))
                .collect()
        };
        for account in connected {
            let board = self.clone();
            tokio::spawn(async move {
                match board.load_contacts(account).await {
                    Ok(contacts) => {
                        let contacts = Arc::new(contacts);
                        let old = {
                            let mut local = lock(&board.local);
                            let Some(user) = local.get_mut(&account) else {
                                return;
                            };
                            std::mem::replace(&mut user.contacts, contacts.clone())
                        };
                        board.watch(account, &old, &contacts);
                    }
                    Err(err) => tracing::warn!(error = %err, "contacts not reloaded"),
                }
            });
        }
    }
}

/// Keeps its user online while it lives (one per WebSocket connection or SSE stream).
pub struct PresenceSession {
    board: Arc<PresenceBoard>,
    account: Uuid,
}

impl Drop for PresenceSession {
    fn drop(&mut self) {
        self.board.metrics.sessions.fetch_sub(1, Ordering::Relaxed);
        let epoch = {
            let mut local = lock(&self.board.local);
            let Some(user) = local.get_mut(&self.account) else {
                return;
            };
            user.sessions -= 1;
            if user.sessions > 0 {
                return;
            }
            user.epoch
        };
        let (board, account) = (self.board.clone(), self.account);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            tokio::time::sleep(board.grace).await;
            let contacts = {
                let mut local = lock(&board.local);
                match local.get(&account) {
                    Some(user) if user.sessions == 0 && user.epoch == epoch => {
                        local.remove(&account).map(|user| user.contacts)
                    }
                    _ => None,
                }
            };
            if let Some(contacts) = contacts {
                board.watch(account, &contacts, &HashSet::new());
                board.set_status(account, Status::Offline);
            }
        });
    }
}

impl PresenceBoard {
    /// Opens a presence session for `account`: the first one on this node loads its
    /// contacts; a user who was offline becomes online.
    pub(crate) async fn connect(
        self: &Arc<Self>,
        account: Uuid,
    ) -> Result<PresenceSession, DomainError> {
        let board = self;
        let needs_contacts = {
            let mut local = lock(&board.local);
            let user = local.entry(account).or_insert_with(|| LocalUser {
                sessions: 0,
                contacts: Arc::new(HashSet::new()),
                epoch: 0,
            });
            user.sessions += 1;
            user.epoch += 1;
            user.sessions == 1
        };
        self.metrics.sessions.fetch_add(1, Ordering::Relaxed);
        let session = PresenceSession {
            board: self.clone(),
            account,
        };
        if needs_contacts {
            let contacts = Arc::new(board.load_contacts(account).await?);
            let old = {
                let mut local = lock(&board.local);
                match local.get_mut(&account) {
                    Some(user) => std::mem::replace(&mut user.contacts, contacts.clone()),
                    None => Arc::new(HashSet::new()),
                }
            };
            board.watch(account, &old, &contacts);
        }
        if board.status_of(account) == Status::Offline {
            self.set_status(account, Status::Online);
        }
        Ok(session)
    }

    /// Sets `account`'s status: in memory and on the bus, no database. Changes closer
    /// together than a second are coalesced: the first goes out at once, the last of
    /// the rest when the second is over (and not at all if it changed nothing).
    pub(crate) fn set_status(self: &Arc<Self>, account: Uuid, status: Status) {
        let board = self;
        let mut flaps = lock(&board.flaps);
        let flap = flaps.entry(account).or_default();
        let publish_now = match flap.published {
            Some((last, _)) if last == status && flap.pending.is_none() => return,
            Some((_, at)) => at.elapsed() >= COALESCE && !flap.flush_scheduled,
            None => true,
        };
        if publish_now {
            flap.published = Some((status, Instant::now()));
            drop(flaps);
            self.spawn_publish(account, status);
            return;
        }
        flap.pending = Some(status);
        if flap.flush_scheduled {
            return;
        }
        flap.flush_scheduled = true;
        let wait = flap.published.map_or(Duration::ZERO, |(_, at)| {
            COALESCE.saturating_sub(at.elapsed())
        });
        drop(flaps);
        let board = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let publish = {
                let mut flaps = lock(&board.flaps);
                let flap = flaps.entry(account).or_default();
                flap.flush_scheduled = false;
                match (flap.pending.take(), flap.published) {
                    (Some(status), Some((last, _))) if status == last => None,
                    (Some(status), _) => {
                        flap.published = Some((status, Instant::now()));
                        Some(status)
                    }
                    (None, _) => None,
                }
            };
            if let Some(status) = publish {
                board.spawn_publish(account, status);
            }
        });
    }

    fn spawn_publish(&self, account: Uuid, status: Status) {
        self.metrics
            .presence_changes
            .fetch_add(1, Ordering::Relaxed);
        let publisher = self.publisher.clone();
        tokio::spawn(async move {
            publisher
                .publish(
                    Vec::new(),
                    Event::Presence {
                        account_id: account,
                        status,
                    },
                )
                .await;
        });
    }

    /// Statuses of those `ids` that are `account`'s contacts; others are left out.
    pub(crate) async fn statuses(
        &self,
        account: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, Status)>, DomainError> {
        if ids.len() > MAX_PRESENCE_IDS {
            return Err(DomainError::invalid(
                "ids",
                format!("at most {MAX_PRESENCE_IDS} ids"),
            ));
        }
        let board = self;
        let cached = lock(&board.local).get(&account).map(|u| u.contacts.clone());
        let contacts = match cached {
            Some(contacts) => contacts,
            None => Arc::new(board.load_contacts(account).await?),
        };
        Ok(ids
            .iter()
            .filter(|id| contacts.contains(id))
            .map(|id| (*id, board.status_of(*id)))
            .collect())
    }
}
