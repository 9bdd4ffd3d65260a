//! Rate limits on sign-in and sign-up, per client IP and per email (GCRA, in memory,
//! per node). Keys of idle clients are pruned so memory stays bounded.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::DomainError;

/// Keys kept before idle ones are pruned.
const PRUNE_ABOVE: usize = 10_000;

/// Attempts allowed per minute (also the burst).
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    pub per_ip_per_minute: u32,
    pub per_email_per_minute: u32,
}

/// Counts attempts by IP and by email.
pub(crate) struct Throttle {
    per_ip: DefaultKeyedRateLimiter<String>,
    per_email: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Throttle")
    }
}

impl Throttle {
    pub(crate) fn new(settings: ThrottleSettings) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least 1"));
        Self {
            per_ip: RateLimiter::hashmap(quota(settings.per_ip_per_minute)),
            per_email: RateLimiter::hashmap(quota(settings.per_email_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt from `ip` for `email`; refuses when either is over its quota.
    pub(crate) fn attempt(
        &self,
        action: &str,
        ip: Option<&str>,
        email: &str,
    ) -> Result<(), DomainError> {
        let mut keys = vec![(&self.per_email, format!("{action}:{email}"))];
        if let Some(ip) = ip {
            keys.push((&self.per_ip, format!("{action}:{ip}")));
        }
        for (limiter, key) in keys {
            if limiter.len() > PRUNE_ABOVE {
                limiter.retain_recent();
            }
            if let Err(not_until) = limiter.check_key(&key) {
                let wait = not_until.wait_time_from(self.clock.now());
                return Err(DomainError::RateLimited {
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
        }
        Ok(())
    }
}
