//! What every push provider does: deliver a payload to one device and say how it
//! went, in the terms the dispatcher acts on.

use std::time::Duration;

use super::{Payload, Provider};

/// A device as a provider needs it.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub subscription_id: uuid::Uuid,
    pub provider: Provider,
    /// The endpoint or token.
    pub address: String,
    pub p256dh: Option<String>,
    pub auth: Option<String>,
    /// APNs: the app's bundle id.
    pub topic: Option<String>,
}

/// How one delivery went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// The provider says the device is gone (404, 410): its subscription is deleted.
    Gone,
    /// A timeout, a 429 or a 5xx: try again, not before `after` when the provider said.
    RetryLater {
        after: Option<Duration>,
    },
    /// The provider refused this push for good (a 4xx other than those above).
    Rejected,
    /// Not sent: the endpoint resolves to an address that may not be contacted.
    Refused,
}

impl Outcome {
    /// The label of `push_sent_total{outcome}`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Gone => "gone",
            Self::RetryLater { .. } => "retry",
            Self::Rejected => "rejected",
            Self::Refused => "refused",
        }
    }

    /// The outcome of an HTTP answer, as every provider documents its codes.
    pub(crate) fn of_status(status: u16, retry_after: Option<Duration>) -> Self {
        match status {
            200..=299 => Self::Delivered,
            404 | 410 => Self::Gone,
            429 | 500..=599 => Self::RetryLater { after: retry_after },
            _ => Self::Rejected,
        }
    }
}

/// Sends pushes through one provider.
#[async_trait::async_trait]
pub(crate) trait Deliver: Send + Sync + std::fmt::Debug {
    async fn deliver(&self, target: &Target, payload: &Payload) -> Outcome;
}

/// `Retry-After` in seconds (the form push services use); an HTTP date is ignored.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}
