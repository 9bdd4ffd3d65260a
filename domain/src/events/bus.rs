//! Carrying envelopes between nodes: a tokio broadcast channel when there is one node,
//! NATS when there are several. Every node receives every envelope and delivers it to
//! its own subscribers only.

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;

use super::Envelope;
use crate::DomainError;

/// Envelopes the in-process channel holds for a slow hub loop before it lags.
const IN_PROCESS_CAPACITY: usize = 16_384;

/// Moves envelopes between the nodes of a deployment.
pub trait Bus: Send + Sync + 'static {
    /// Sends `envelope` to every node, this one included.
    fn publish(&self, envelope: &Envelope) -> BoxFuture<'_, Result<(), DomainError>>;
    /// Every envelope published from now on, from any node.
    fn subscribe(&self) -> BoxFuture<'_, Result<BoxStream<'static, Envelope>, DomainError>>;
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

    fn subscribe(&self) -> BoxFuture<'_, Result<BoxStream<'static, Envelope>, DomainError>> {
        let receiver = self.sender.subscribe();
        Box::pin(async move {
            let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
                loop {
                    match receiver.recv().await {
                        Ok(envelope) => return Some((envelope, receiver)),
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            tracing::warn!(
                                missed,
                                "event hub lagged; subscribers resync from the database"
                            );
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            });
            Ok(stream.boxed())
        })
    }
}

/// Several nodes: JSON envelopes on one NATS subject.
pub struct NatsBus {
    client: async_nats::Client,
    subject: String,
}

impl NatsBus {
    /// Connects to `url` (e.g. `nats://127.0.0.1:4222`), publishing on `subject`.
    pub async fn connect(url: &str, subject: &str) -> Result<Self, DomainError> {
        let client = async_nats::connect(url).await.map_err(|err| {
            tracing::error!(error = %err, "cannot connect to the event bus");
            DomainError::Unavailable
        })?;
        Ok(Self {
            client,
            subject: subject.to_owned(),
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

    fn subscribe(&self) -> BoxFuture<'_, Result<BoxStream<'static, Envelope>, DomainError>> {
        Box::pin(async move {
            let subscriber = self
                .client
                .subscribe(self.subject.clone())
                .await
                .map_err(|err| {
                    tracing::error!(error = %err, "cannot subscribe to the event bus");
                    DomainError::Unavailable
                })?;
            // The first round trip makes the subscription effective before we return.
            self.client
                .flush()
                .await
                .map_err(|_| DomainError::Unavailable)?;
            Ok(subscriber
                .filter_map(|message| async move {
                    serde_json::from_slice::<Envelope>(&message.payload)
                        .inspect_err(
                            |err| tracing::warn!(error = %err, "malformed envelope dropped"),
                        )
                        .ok()
                })
                .boxed())
        })
    }
}
