//! Carrying envelopes between nodes: a tokio broadcast channel when there is one node,
//! NATS when there are several. Every node receives every envelope and delivers it to
//! its own subscribers only. A bus never loses envelopes silently: when some may have
//! been lost (the connection dropped, or this node fell behind) it says so with a
//! `Gap`, and the hub tells every subscriber to resync from the database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;

use super::Envelope;
use crate::DomainError;

/// Envelopes the in-process channel holds for a slow hub loop before it lags.
const IN_PROCESS_CAPACITY: usize = 16_384;

/// What a node hears from the bus.
#[derive(Debug, Clone)]
pub enum Arrival {
    Envelope(Box<Envelope>),
    /// Envelopes may have been lost since the last arrival.
    Gap,
}

/// Moves envelopes between the nodes of a deployment.
pub trait Bus: Send + Sync + 'static {
    /// Sends `envelope` to every node, this one included.
    fn publish(&self, envelope: &Envelope) -> BoxFuture<'_, Result<(), DomainError>>;
    /// Every envelope published from now on, from any node, and every gap.
    fn subscribe(&self) -> BoxFuture<'_, Result<BoxStream<'static, Arrival>, DomainError>>;
    /// Whether envelopes flow between the nodes right now.
    fn connected(&self) -> bool;
}

/// One node: a broadcast channel.
pub struct InProcessBus {
    sender: broadcast::Sender<Envelope>,
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(IN_PROCESS_CAPACITY).0,
        }
    }
}

impl Bus for InProcessBus {
    fn publish(&self, envelope: &Envelope) -> BoxFuture<'_, Result<(), DomainError>> {
        // No receiver yet means no subscriber to miss it.
        let _ = self.sender.send(envelope.clone());
        Box::pin(async { Ok(()) })
    }

    fn subscribe(&self) -> BoxFuture<'_, Result<BoxStream<'static, Arrival>, DomainError>> {
        let receiver = self.sender.subscribe();
        Box::pin(async move {
            let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
                match receiver.recv().await {
                    Ok(envelope) => Some((Arrival::Envelope(Box::new(envelope)), receiver)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            "event hub lagged; subscribers resync from the database"
                        );
                        Some((Arrival::Gap, receiver))
                    }
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            });
            Ok(stream.boxed())
        })
    }

    fn connected(&self) -> bool {
        true
    }
}

/// Several nodes: JSON envelopes on one NATS subject. Core NATS keeps nothing for a
/// node that is not connected, so every reconnect (and every message the server
/// dropped for a slow consumer) is a gap. A node that reconnects also announces its
/// gap on `<subject>.gaps`: what it published while cut off may never have reached
/// the others, whose own connection never dropped.
pub struct NatsBus {
    client: async_nats::Client,
    subject: String,
    gaps: broadcast::Sender<()>,
    ledger: Arc<ReconnectLedger>,
}

/// Which connections of the client a gap has been told for. The client counts its
/// connections before it resubscribes, so the first envelope of a new connection sees
/// the new count and its gap comes before it, not after it as the client's
/// `Connected` event (handled on another task) might.
#[derive(Default)]
struct ReconnectLedger {
    statistics: OnceLock<Arc<async_nats::Statistics>>,
    told: AtomicU64,
}

impl ReconnectLedger {
    fn connects(&self) -> u64 {
        self.statistics
            .get()
            .map_or(0, |statistics| statistics.connects.load(Ordering::SeqCst))
    }

    fn has_reconnected(&self) -> bool {
        self.connects() > 1
    }

    /// True once per connection after the first: a gap nobody has been told of yet.
    fn untold_gap(&self) -> bool {
        let connects = self.connects();
        self.told.fetch_max(connects, Ordering::SeqCst) < connects
    }
}

fn gap_subject(subject: &str) -> String {
    format!("{subject}.gaps")
}

impl NatsBus {
    /// Connects to `url` (e.g. `nats://127.0.0.1:4222`), publishing on `subject`.
    pub async fn connect(url: &str, subject: &str) -> Result<Self, DomainError> {
        let gaps = broadcast::channel(16).0;
        let ledger = Arc::new(ReconnectLedger::default());
        let (reconnected, mut reconnects) = tokio::sync::mpsc::unbounded_channel();
        let (on_event, on_connect) = (gaps.clone(), ledger.clone());
        let options = async_nats::ConnectOptions::new().event_callback(move |event| {
            let (gaps, ledger, reconnected) =
                (on_event.clone(), on_connect.clone(), reconnected.clone());
            async move {
                use async_nats::Event;
                match event {
                    Event::Disconnected => {
                        tracing::warn!("event bus disconnected; reconnecting");
                    }
                    Event::Connected if ledger.has_reconnected() => {
                        tracing::warn!("event bus reconnected; subscribers resync");
                        // Unless an envelope of the new connection already told it.
                        if ledger.untold_gap() {
                            gaps.send(()).ok();
                        }
                        reconnected.send(()).ok();
                    }
                    Event::SlowConsumer(_) => {
                        tracing::warn!("event bus dropped envelopes; subscribers resync");
                        gaps.send(()).ok();
                    }
                    _ => {}
                }
            }
        });
        let client = options.connect(url).await.map_err(|err| {
            tracing::error!(error = %err, "cannot connect to the event bus");
            DomainError::Unavailable
        })?;
        let statistics = client.statistics();
        ledger
            .told
            .store(statistics.connects.load(Ordering::SeqCst), Ordering::SeqCst);
        ledger.statistics.set(statistics).ok();
        let (announcer, gap_subject) = (client.clone(), gap_subject(subject));
        tokio::spawn(async move {
            while reconnects.recv().await.is_some() {
                if let Err(err) = announcer
                    .publish(gap_subject.clone(), Default::default())
                    .await
                {
                    tracing::warn!(error = %err, "gap not announced to other nodes");
                }
            }
        });
        Ok(Self {
            client,
            subject: subject.to_owned(),
            gaps,
            ledger,
        })
    }
}

impl Bus for NatsBus {
    fn publish(&self, envelope: &Envelope) -> BoxFuture<'_, Result<(), DomainError>> {
        let payload = serde_json::to_vec(envelope).expect("envelopes serialise");
        Box::pin(async move {
            self.client
                .publish(self.subject.clone(), payload.into())
                .await
                .map_err(|err| {
                    tracing::warn!(error = %err, "event not published");
                    DomainError::Unavailable
                })
        })
    }

    fn subscribe(&self) -> BoxFuture<'_, Result<BoxStream<'static, Arrival>, DomainError>> {
        let gaps = futures_util::stream::unfold(self.gaps.subscribe(), |mut gaps| async move {
            match gaps.recv().await {
                Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => Some((Arrival::Gap, gaps)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        });
        Box::pin(async move {
            let subscriber = self
                .client
                .subscribe(self.subject.clone())
                .await
                .map_err(|err| {
                    tracing::error!(error = %err, "cannot subscribe to the event bus");
                    DomainError::Unavailable
                })?;
            let announced = self
                .client
                .subscribe(gap_subject(&self.subject))
                .await
                .map_err(|err| {
                    tracing::error!(error = %err, "cannot subscribe to the event bus");
                    DomainError::Unavailable
                })?
                .map(|_| Arrival::Gap);
            // The first round trip makes the subscriptions effective before we return.
            self.client
                .flush()
                .await
                .map_err(|_| DomainError::Unavailable)?;
            let ledger = self.ledger.clone();
            let envelopes = subscriber.flat_map(move |message| {
                let gap = ledger.untold_gap().then_some(Arrival::Gap);
                let envelope = serde_json::from_slice::<Envelope>(&message.payload)
                    .inspect_err(|err| tracing::warn!(error = %err, "malformed envelope dropped"))
                    .ok()
                    .map(|envelope| Arrival::Envelope(Box::new(envelope)));
                futures_util::stream::iter(gap.into_iter().chain(envelope))
            });
            let gaps = futures_util::stream::select(gaps, announced);
            Ok(futures_util::stream::select(envelopes, gaps).boxed())
        })
    }

    fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }
}
