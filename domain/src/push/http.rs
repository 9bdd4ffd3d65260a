//! The HTTP clients pushes leave through. To an address a client chose (a Web Push
//! endpoint) it resolves names itself and connects only to addresses
//! `address::may_send_to` allows; to every address it follows no redirect, reads at
//! most a few KiB of an answer and gives up after five seconds.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::address;
use super::provider::{Outcome, retry_after};

/// How long one push may take, connection included.
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// The most of a provider's answer that is read.
pub(crate) const MAX_ANSWER_BYTES: usize = 4 * 1024;

/// Resolves a name and keeps the addresses a push may go to.
#[derive(Debug)]
struct GuardedResolver {
    allow_loopback: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| address::may_send_to(a.ip(), allow_loopback))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// A push that was not sent because its address may not be reached.
#[derive(Debug, thiserror::Error)]
#[error("the push endpoint resolves only to addresses that may not be contacted")]
pub(crate) struct Refused;

/// Who chose the address a client sends to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Chosen {
    /// A device's app (a Web Push endpoint): every address is checked.
    ByClient { allow_loopback: bool },
    /// The operator (the FCM and APNs base URLs, the OAuth token URI).
    ByOperator,
}

/// The client a provider sends with; `http2_only` for APNs, which speaks nothing else.
pub(crate) fn client(chosen: Chosen, http2_only: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(SEND_TIMEOUT)
        .connect_timeout(SEND_TIMEOUT);
    if let Chosen::ByClient { allow_loopback } = chosen {
        builder = builder.dns_resolver(Arc::new(GuardedResolver { allow_loopback }));
    }
    if http2_only {
        builder = builder.http2_prior_knowledge();
    }
    builder
        .build()
        .expect("a client with no TLS backend options to fail on")
}

/// Whether `url` may be sent to as far as its literal host says (a name is judged
/// by the resolver, which a literal address never reaches).
pub(crate) fn literal_host_allowed(url: &url::Url, allow_loopback: bool) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(v4)) => address::may_send_to(IpAddr::V4(v4), allow_loopback),
        Some(url::Host::Ipv6(v6)) => address::may_send_to(IpAddr::V6(v6), allow_loopback),
        Some(url::Host::Domain(_)) => true,
        None => false,
    }
}

/// A provider's answer: its status, when it asked to be retried, and the start of
/// its body (where FCM and APNs say why they refused).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The outcome by status alone, as every provider documents its codes.
    pub(crate) fn outcome(&self) -> Outcome {
        Outcome::of_status(self.status, self.retry_after)
    }
}

/// Sends `request` and says how it went.
pub(crate) async fn send(client: &reqwest::Client, request: reqwest::Request) -> Outcome {
    match exchange(client, request).await {
        Ok(answer) => answer.outcome(),
        Err(outcome) => outcome,
    }
}

/// Sends `request` and reads the answer; the outcome when there is none. Nothing
/// about the device (its endpoint or token) is logged: reqwest's errors name the
/// URL, so it is stripped.
pub(crate) async fn exchange(
    client: &reqwest::Client,
    request: reqwest::Request,
) -> Result<Answer, Outcome> {
    match client.execute(request).await {
        Ok(response) => Ok(Answer {
            status: response.status().as_u16(),
            retry_after: retry_after(response.headers()),
            // Reading the answer also lets the connection be reused.
            body: read_capped(response).await,
        }),
        Err(err) if refused(&err) => Err(Outcome::Refused),
        Err(err) => {
            tracing::debug!(error = %err.without_url(), "push not sent; it will be retried");
            Err(Outcome::RetryLater { after: None })
        }
    }
}

fn refused(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if cause.is::<Refused>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// At most `MAX_ANSWER_BYTES` of `response`; a longer answer is cut off.
async fn read_capped(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ANSWER_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ANSWER_BYTES {
            break;
        }
    }
    body
}
