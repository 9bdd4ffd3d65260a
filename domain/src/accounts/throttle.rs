//! Rate limits on sign-in and sign-up (GCRA, in memory, per node), shaped so that
//! guessing a password cannot lock its owner out:
//!
//! - per client address, shared by sign-up and sign-in: one address cannot try much;
//! - per email *from one address*: guessing one account from one address stops soon,
//!   while the owner, elsewhere, is untouched;
//! - per email from everywhere, a ceiling high enough that a stranger needs many
//!   addresses to reach it;
//! - a device that signed in before (it presents its valid refresh token) is counted
//!   on its own instead, so neither a guesser sharing its address nor one reaching the
//!   ceiling keeps the owner out (OWASP's "device cookie").
//!
//! Keys of idle clients are pruned so memory stays bounded.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::DomainError;

/// Keys kept before idle ones are pruned.
const PRUNE_ABOVE: usize = 10_000;

/// Attempts allowed per minute (also the burst).
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    /// From one client address, sign-up and sign-in together.
    pub per_ip_per_minute: u32,
    /// For one email from one client address, and from one known device.
    pub per_email_per_minute: u32,
    /// For one email from every address together.
    pub per_email_ceiling_per_minute: u32,
}

/// Who is trying: the client address, the email, and the sign-in a known device
/// proved it holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    pub(crate) ip: Option<&'a str>,
    pub(crate) email: &'a str,
    pub(crate) known_device: Option<Uuid>,
}

/// Counts attempts by address, by email per address, by email, and by device.
pub(crate) struct Throttle {
    per_ip: DefaultKeyedRateLimiter<String>,
    per_email_and_ip: DefaultKeyedRateLimiter<String>,
    per_email: DefaultKeyedRateLimiter<String>,
    per_device: DefaultKeyedRateLimiter<String>,
    /// One-time codes offered outside a login (confirming or removing two-factor
    /// sign-in), per account: as many as one email may try from one address.
    per_account_code: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Throttle")
    }
}

impl Throttle {
    pub(crate) fn new(settings: ThrottleSettings) -> Self {
        let limiter = |n: u32| {
            RateLimiter::hashmap(Quota::per_minute(
                NonZeroU32::new(n.max(1)).expect("at least 1"),
            ))
        };
        Self {
            per_ip: limiter(settings.per_ip_per_minute),
            per_email_and_ip: limiter(settings.per_email_per_minute),
            per_email: limiter(settings.per_email_ceiling_per_minute),
            per_device: limiter(settings.per_email_per_minute),
            per_account_code: limiter(settings.per_email_per_minute),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt; refuses when any of its quotas is spent.
    pub(crate) fn attempt(&self, attempt: Attempt<'_>) -> Result<(), DomainError> {
        let keys = match (attempt.known_device, attempt.ip) {
            (Some(device), _) => vec![(&self.per_device, device.to_string())],
            (None, Some(ip)) => vec![
                (&self.per_ip, ip.to_owned()),
                (&self.per_email_and_ip, format!("{}|{ip}", attempt.email)),
                (&self.per_email, attempt.email.to_owned()),
            ],
            (None, None) => vec![
                (&self.per_email_and_ip, attempt.email.to_owned()),
                (&self.per_email, attempt.email.to_owned()),
            ],
        };
        for (limiter, key) in keys {
            self.check(limiter, &key)?;
        }
        Ok(())
    }

    /// Counts one one-time code offered by `account` outside a login.
    pub(crate) fn code_attempt(&self, account: Uuid) -> Result<(), DomainError> {
        self.check(&self.per_account_code, &account.to_string())
    }

    fn check(
        &self,
        limiter: &DefaultKeyedRateLimiter<String>,
        key: &String,
    ) -> Result<(), DomainError> {
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
        }
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            DomainError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }
}
