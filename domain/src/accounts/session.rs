//! How long a long-lived session (an SSE stream, a WebSocket) may go on: as long as
//! the credentials it was opened with. It ends at the token's expiry plus the leeway,
//! at once when this node disables the account or revokes the sign-in, and within
//! the status cache's few seconds when another node does.

use std::time::Duration;

use tokio::sync::broadcast;
use uuid::Uuid;

use super::AccountService;
use super::status::{Standing, TTL};
use crate::DomainError;
use crate::actor::Actor;

/// How often a session asks whether its credentials still hold. Together with the
/// freshness it asks for, a change on another node is seen within the cache's `TTL`.
const RECHECK: Duration = Duration::from_secs(1);
/// Revocation notices a slow session may miss before it rechecks at once.
const NOTICES_KEPT: usize = 1024;

/// A verified bearer token: who acts, within which sign-in, until when.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub actor: Actor,
    pub(crate) sign_in: Uuid,
    /// A staff token that reaches only two-factor enrolment (see `full`).
    pub(crate) enrolment_only: bool,
    /// Unix seconds: the token's `exp` plus the leeway.
    pub(crate) usable_until: i64,
}

impl Credentials {
    /// Whether these are a staff token issued before two-factor sign-in was on.
    pub fn reach_only_enrolment(&self) -> bool {
        self.enrolment_only
    }

    /// These credentials, if they reach everything their role may: a staff token
    /// issued before two-factor sign-in was turned on reaches only enrolment.
    pub fn full(self) -> Result<Self, DomainError> {
        if self.reach_only_enrolment() {
            Err(DomainError::TotpEnrolmentRequired)
        } else {
            Ok(self)
        }
    }

    /// Whether `other` may take over from these credentials in the same session: the
    /// same account in the same role (a renewed token).
    pub fn renews(&self, other: &Self) -> bool {
        other.actor.account_id == self.actor.account_id && other.actor.role == self.actor.role
    }
}

/// Why a session must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The token expired (plus the leeway); a fresh token opens a new session.
    Expired,
    /// The account was disabled, or the sign-in signed out or was revoked.
    Revoked,
}

/// What this node revoked, told to its open sessions at once.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Revocation {
    Account(Uuid),
    SignIn(Uuid),
}

/// The sender every session of this node listens to.
#[derive(Debug, Clone)]
pub(crate) struct Notices(broadcast::Sender<Revocation>);

impl Default for Notices {
    fn default() -> Self {
        Self(broadcast::channel(NOTICES_KEPT).0)
    }
}

impl Notices {
    pub(crate) fn send(&self, revocation: Revocation) {
        // No session listening is fine: there is nothing to end.
        self.0.send(revocation).ok();
    }
}

impl AccountService {
    /// Completes when a session opened with `credentials` must end, and says why.
    /// Nothing should be sent to the session after it completes.
    pub fn session_end(
        &self,
        credentials: &Credentials,
    ) -> impl Future<Output = SessionEnd> + Send + 'static {
        let accounts = self.clone();
        let credentials = credentials.clone();
        let mut notices = self.notices.0.subscribe();
        async move {
            let remaining = credentials.usable_until - crate::clock::now().timestamp();
            let expiry =
                tokio::time::sleep(Duration::from_secs(u64::try_from(remaining).unwrap_or(0)));
            tokio::pin!(expiry);
            let mut recheck = tokio::time::interval(RECHECK);
            recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut confirmed = tokio::time::Instant::now();
            loop {
                tokio::select! {
                    biased;
                    () = &mut expiry => return SessionEnd::Expired,
                    notice = notices.recv() => match notice {
                        // This node has just committed it: no need to ask storage, and
                        // no await in between, so no event slips out meanwhile.
                        Ok(revocation) if credentials.concerned_by(revocation) => {
                            return SessionEnd::Revoked;
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Closed) => continue,
                        // Missed notices: one of them may have been ours.
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                    },
                    _ = recheck.tick() => {}
                }
                match accounts.still_valid(&credentials).await {
                    Some(true) => confirmed = tokio::time::Instant::now(),
                    Some(false) => return SessionEnd::Revoked,
                    // Unconfirmable for longer than REST would serve from its cache:
                    // fail closed, as REST does.
                    None if confirmed.elapsed() > TTL => return SessionEnd::Revoked,
                    None => {}
                }
            }
        }
    }

    /// Whether `credentials` still hold, from answers young enough that a change
    /// anywhere is seen within `TTL` (a recheck's wait and its query included);
    /// `None` when storage cannot say.
    async fn still_valid(&self, credentials: &Credentials) -> Option<bool> {
        let max_age = TTL.saturating_sub(RECHECK * 2);
        let account = credentials.actor.account_id;
        let standing = self
            .status
            .standing(&self.db, account, max_age)
            .await
            .ok()?;
        if standing != Standing::Active {
            return Some(false);
        }
        self.status
            .sign_in_live(&self.db, account, credentials.sign_in, max_age)
            .await
            .ok()
    }
}

impl Credentials {
    fn concerned_by(&self, revocation: Revocation) -> bool {
        match revocation {
            Revocation::Account(account) => account == self.actor.account_id,
            Revocation::SignIn(sign_in) => sign_in == self.sign_in,
        }
    }
}
