//! How long a long-lived session (an SSE stream, a WebSocket) may go on: as long as
//! the credentials it was opened with. It ends at the token's expiry plus the leeway,
//! at once when this node disables the account or revokes the sign-in, and within
//! the status cache's few seconds when another node does.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use uuid::Uuid;

use super::AccountService;
use super::status::{Standing, StatusCache, TTL};
use crate::DomainError;
use crate::actor::Actor;
use crate::database::Db;

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
        // Every open session holds this future for its whole life: it keeps only
        // what the checks need, not the service or the caller's actor.
        let watched = Watched {
            db: self.db.clone(),
            status: self.status.clone(),
            account: credentials.actor.account_id,
            sign_in: credentials.sign_in,
        };
        let usable_until = credentials.usable_until;
        let mut notices = self.notices.0.subscribe();
        async move {
            let remaining = usable_until - crate::clock::now().timestamp();
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
                        Ok(revocation) if watched.concerned_by(revocation) => {
                            return SessionEnd::Revoked;
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Closed) => continue,
                        // Missed notices: one of them may have been ours.
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                    },
                    _ = recheck.tick() => {}
                }
                // Boxed: held inline, the queries' state would be most of the
                // session's memory while it idles between rechecks.
                match Box::pin(watched.still_valid()).await {
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
}

/// The sign-in an open session speaks for, and how to ask about it.
struct Watched {
    db: Db,
    status: Arc<StatusCache>,
    account: Uuid,
    sign_in: Uuid,
}

impl Watched {
    fn concerned_by(&self, revocation: Revocation) -> bool {
        match revocation {
            Revocation::Account(account) => account == self.account,
            Revocation::SignIn(sign_in) => sign_in == self.sign_in,
        }
    }

    /// Whether the account is still active and the sign-in still live, as seen
    /// anywhere within `TTL` (a recheck's wait and its query included); `None` when
    /// storage cannot say.
    async fn still_valid(&self) -> Option<bool> {
        let max_age = TTL.saturating_sub(RECHECK * 2);
        let standing = self
            .status
            .standing(&self.db, self.account, max_age)
            .await
            .ok()?;
        if standing != Standing::Active {
            return Some(false);
        }
        self.status
            .sign_in_live(&self.db, self.account, self.sign_in, max_age)
            .await
            .ok()
    }
}
