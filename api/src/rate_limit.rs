//! A per-client request rate limit in front of every route but the probes and
//! `/metrics`: GCRA per client IP (the TCP peer; a proxy's address behind one), in
//! memory and per node. Over the limit, a 429 problem with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::codes;
use crate::problem::Problem;

/// Keys kept before idle ones are pruned, so memory stays bounded.
const PRUNE_ABOVE: usize = 10_000;

/// Paths that orchestrators and Prometheus poll: never limited.
const EXEMPT: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// The shared limiter; `None` inside when the limit is off.
#[derive(Clone)]
pub struct RateLimit(Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>);

impl RateLimit {
    /// `per_second` requests per client IP with bursts of `burst`; 0 turns it off.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let Some(rate) = NonZeroU32::new(per_second) else {
            return Self(None);
        };
        let burst = NonZeroU32::new(burst).unwrap_or(rate);
        let quota = Quota::per_second(rate).allow_burst(burst);
        Self(Some(Arc::new(RateLimiter::hashmap(quota))))
    }

    /// `Err(seconds to wait)` when `client` is over its quota.
    pub(crate) fn check(&self, client: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
        }
        limiter
            .check_key(&client)
            .map_err(|not_until| seconds_until(&not_until))
    }
}

/// Whole seconds until `not_until`, rounded up: a client that waits the advertised
/// `Retry-After` gets through.
pub(crate) fn seconds_until(
    not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>,
) -> u64 {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// Middleware: answers 429 `rate_limited` to a client over its quota.
pub async fn limit(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let path = request.path().trim_end_matches('/');
    let exempt = EXEMPT.contains(&path);
    let limiter = request.app_data::<web::Data<RateLimit>>();
    let client = request.peer_addr().map(|addr| addr.ip());
    if let (false, Some(limiter), Some(client)) = (exempt, limiter, client)
        && let Err(wait) = limiter.check(client)
    {
        let response = over_quota(wait).response();
        let (request, _) = request.into_parts();
        return Ok(ServiceResponse::new(request, response).map_into_right_body());
    }
    Ok(next.call(request).await?.map_into_left_body())
}

/// The answer to a client over its quota; it may retry after `wait` seconds.
pub(crate) fn over_quota(wait: u64) -> Problem {
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        codes::RATE_LIMITED,
        Some(format!(
            "too many requests from this client; retry in {wait} s"
        )),
    )
    .retry_after(wait)
}
