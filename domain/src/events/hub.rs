//! The hub of one node: receives every envelope from the bus and hands each to the
//! local subscribers it is for, through bounded per-subscriber buffers. A subscriber
//! whose buffer fills is dropped with a resync notice instead of holding anyone back.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::metrics::HubMetrics;
use super::presence::{PresenceBoard, PresenceSession};
use super::publisher::Publisher;
use super::{Arrival, Bus, Envelope, Event, Status};
use crate::DomainError;
use crate::database::Db;

/// Deliveries a subscriber may have waiting before it counts as too slow.
const BUFFER: usize = 256;

/// What a subscriber receives. Events are shared, not copied, between recipients: a
/// buffered delivery costs a pointer, which keeps idle sessions small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// An event, with its position in the subscriber's feed when it is a change.
    Event(Arc<Event>, Option<i64>),
    /// This subscriber fell behind and is closed: resync from the database (windows
    /// `after` the last seq seen) and subscribe again.
    Resync,
}

struct Slot {
    id: u64,
    sender: mpsc::Sender<Delivery>,
    lagged: Arc<AtomicBool>,
}

struct Inner {
    publisher: Publisher,
    slots: RwLock<HashMap<Uuid, Vec<Slot>>>,
    next_slot: AtomicU64,
    presence: Arc<PresenceBoard>,
    metrics: Arc<HubMetrics>,
}

/// The event hub of this node: subscriptions, delivery, presence. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("node", &self.inner.publisher.node)
            .finish()
    }
}

impl Hub {
    /// Starts the hub: subscribes to `bus` and delivers what arrives. Presence reads
    /// contacts from `db` when a session opens, and `grace` is how long a user stays
    /// online after their last session closes.
    pub async fn start(bus: Arc<dyn Bus>, db: Db, grace: Duration) -> Result<Self, DomainError> {
        let mut envelopes = bus.subscribe().await?;
        let publisher = Publisher {
            node: Uuid::now_v7(),
            bus,
        };
        let metrics = Arc::new(HubMetrics::default());
        let presence = PresenceBoard::new(db, grace, publisher.clone(), metrics.clone());
        let inner = Arc::new(Inner {
            publisher,
            slots: RwLock::new(HashMap::new()),
            next_slot: AtomicU64::new(1),
            presence: Arc::new(presence),
            metrics,
        });
        let weak = Arc::downgrade(&inner);
        tokio::spawn(async move {
            while let Some(arrival) = envelopes.next().await {
                let Some(inner) = weak.upgrade() else {
                    break;
                };
                match arrival {
                    Arrival::Envelope(envelope) => Hub { inner }.deliver(*envelope),
                    Arrival::Gap => Hub { inner }.resync_everyone(),
                }
            }
        });
        Ok(Self { inner })
    }

    /// Counters for `/metrics`.
    pub fn metrics(&self) -> &HubMetrics {
        &self.inner.metrics
    }

    /// Whether events flow between the nodes right now (always, on one node).
    pub fn bus_connected(&self) -> bool {
        self.inner.publisher.bus.connected()
    }

    /// Sends `event` to `audience` on every node. Failures are logged, never passed
    /// to the caller: the database already holds the truth and clients resync.
    pub async fn publish(&self, audience: Vec<Uuid>, event: Event) {
        self.inner.publisher.publish(audience, event).await;
    }

    /// Sends `event`, a change recorded in the catch-up feed at `positions`, to each
    /// of its readers with their own position.
    pub async fn publish_change(&self, event: Event, positions: crate::sync::Positions) {
        self.inner.publisher.publish_change(event, positions).await;
    }

    /// Opens a presence session for `account` (a WebSocket or SSE stream): the user
    /// is online while one is open, and offline a grace period after the last closes.
    pub async fn connect(&self, account: Uuid) -> Result<PresenceSession, DomainError> {
        self.inner.presence.connect(account).await
    }

    /// Sets `account`'s status: in memory and on the bus, no database. Changes closer
    /// together than a second are coalesced.
    pub fn set_status(&self, account: Uuid, status: Status) {
        self.inner.presence.set_status(account, status);
    }

    /// Statuses of those `ids` that are `account`'s contacts; others are left out.
    pub async fn statuses(
        &self,
        account: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, Status)>, DomainError> {
        self.inner.presence.statuses(account, ids).await
    }

    /// Tells every node that the conversations of `accounts` changed, so that their
    /// contacts are loaded again.
    pub async fn membership_changed(&self, accounts: Vec<Uuid>) {
        self.publish(Vec::new(), Event::MembershipChanged { accounts })
            .await;
    }

    /// Events for `account` from now on, through a bounded buffer.
    pub fn subscribe(&self, account: Uuid) -> Subscriber {
        let (sender, receiver) = mpsc::channel(BUFFER);
        let lagged = Arc::new(AtomicBool::new(false));
        let id = self.inner.next_slot.fetch_add(1, Ordering::Relaxed);
        self.inner
            .slots
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(account)
            .or_default()
            .push(Slot {
                id,
                sender,
                lagged: lagged.clone(),
            });
        Subscriber {
            receiver,
            lagged,
            hub: Arc::downgrade(&self.inner),
            account,
            id,
        }
    }

    /// Hands one envelope to the local subscribers it is for.
    fn deliver(&self, envelope: Envelope) {
        let recipients: Vec<Uuid> = match &envelope.event {
            Event::Presence { account_id, status } => {
                self.inner.presence.record(*account_id, *status);
                self.inner.presence.watchers_of(*account_id)
            }
            Event::MembershipChanged { accounts } => {
                self.inner.presence.reload_contacts(accounts);
                return;
            }
            _ => envelope.audience.clone(),
        };
        let mut too_slow = Vec::new();
        let (event, positions) = (Arc::new(envelope.event), envelope.positions);
        {
            let slots = self.inner.slots.read().unwrap_or_else(|p| p.into_inner());
            for account in &recipients {
                for slot in slots.get(account).into_iter().flatten() {
                    let position = positions.get(account).copied();
                    match slot
                        .sender
                        .try_send(Delivery::Event(event.clone(), position))
                    {
                        Ok(()) => {
                            self.inner
                                .metrics
                                .events_fanned_out
                                .fetch_add(1, Ordering::Relaxed);
                        }
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            slot.lagged.store(true, Ordering::Relaxed);
                            too_slow.push((*account, slot.id));
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => {
                            too_slow.push((*account, slot.id))
                        }
                    }
                }
            }
        }
        for (account, id) in too_slow {
            if self.inner.remove_slot(account, id) {
                self.inner
                    .metrics
                    .slow_subscribers_dropped
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Envelopes may have been lost: every local subscriber gets what it has buffered,
    /// then `Resync`, and is closed, so that it catches up from the database.
    fn resync_everyone(&self) {
        let dropped = {
            let mut slots = self.inner.slots.write().unwrap_or_else(|p| p.into_inner());
            let dropped: Vec<Slot> = slots.drain().flat_map(|(_, list)| list).collect();
            dropped
        };
        for slot in &dropped {
            slot.lagged.store(true, Ordering::Relaxed);
        }
        self.inner.metrics.bus_gaps.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            subscribers = dropped.len(),
            "events may have been lost; every subscriber resyncs"
        );
    }
}

impl Inner {
    /// Drops a subscriber's slot; true when it was there.
    fn remove_slot(&self, account: Uuid, id: u64) -> bool {
        let mut slots = self.slots.write().unwrap_or_else(|p| p.into_inner());
        let Some(list) = slots.get_mut(&account) else {
            return false;
        };
        let before = list.len();
        list.retain(|slot| slot.id != id);
        let removed = list.len() < before;
        if list.is_empty() {
            slots.remove(&account);
        }
        removed
    }
}

/// A bounded stream of deliveries for one account; unregisters itself when dropped.
pub struct Subscriber {
    receiver: mpsc::Receiver<Delivery>,
    lagged: Arc<AtomicBool>,
    hub: Weak<Inner>,
    account: Uuid,
    id: u64,
}

/// Deliveries until a `Resync` (or until the hub stops). Polled directly, not through
/// an `async fn`: every idle subscription holds this for its whole life.
impl Stream for Subscriber {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        self.receiver.poll_recv(cx).map(|delivery| {
            delivery.or_else(|| {
                self.lagged
                    .swap(false, Ordering::Relaxed)
                    .then_some(Delivery::Resync)
            })
        })
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.remove_slot(self.account, self.id);
        }
    }
}
