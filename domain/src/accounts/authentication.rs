//! Who a bearer token stands for: a valid token of an active account whose sign-in
//! is still live, each checked against a cache a few seconds old at most.

use super::session::Revocation;
use super::status::{self, Standing};
use super::{AccountService, Credentials, token};
use crate::DomainError;
use crate::actor::Actor;

impl AccountService {
    /// The credentials a bearer token stands for, if the token is valid, its account
    /// may still act and its sign-in is live (each checked against a cache a few
    /// seconds old at most).
    pub async fn authenticate(&self, bearer: &str) -> Result<Credentials, DomainError> {
        let token = self.access.verify(bearer)?;
        let standing = self
            .status
            .standing(&self.db, token.account, status::TTL)
            .await?;
        match standing {
            Standing::Active => {}
            Standing::Disabled => {
                return Err(DomainError::Unauthenticated("the account is disabled"));
            }
            Standing::Unknown => return Err(token::INVALID),
        }
        let live = self
            .status
            .sign_in_live(&self.db, token.account, token.sign_in, status::TTL)
            .await?;
        if !live {
            return Err(DomainError::Unauthenticated(
                "this sign-in has ended; sign in again",
            ));
        }
        Ok(Credentials {
            actor: Actor {
                account_id: token.account,
                role: token.role,
                request_id: None,
                door: crate::actor::Door::default(),
            },
            sign_in: token.sign_in,
            enrolment_only: token.enrolment_only,
            usable_until: token.usable_until,
        })
    }

    /// Makes this node forget what it cached about a revoked account or sign-in and
    /// tells the sessions it holds, which end at once.
    pub(super) fn revoked(&self, revocation: Revocation) {
        match revocation {
            Revocation::Account(account) => self.status.forget_account(account),
            Revocation::SignIn(sign_in) => self.status.forget_sign_in(sign_in),
        }
        self.notices.send(revocation);
    }
}
