//! Signing in and out: sign-up, login with rotating refresh tokens (each sign-in is
//! one refresh-token family, named in its access tokens), refresh and logout.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::creation::normalise_email;
use super::session::Revocation;
use super::throttle::Attempt;
use super::totp::SecondFactor;
use super::{Account, AccountService, NewAccount, Origin, TokenPair, account, refresh_token};
use crate::DomainError;
use crate::actor::Role;
use crate::text::{self, Lines};

const LOGIN_FAILED: &str = "the email or password is wrong";

impl AccountService {
    /// Self-service sign-up; always a client account.
    pub async fn signup(
        &self,
        origin: &Origin,
        email: String,
        password: String,
        display_name: String,
    ) -> Result<Account, DomainError> {
        let email = normalise_email(&email)?;
        self.throttle.attempt(Attempt {
            ip: origin.ip.as_deref(),
            email: &email,
            known_device: None,
        })?;
        self.create_account(NewAccount {
            email,
            password,
            display_name,
            role: Role::Client,
        })
        .await
    }

    /// Checks the password, and the second factor of an account that has two-factor
    /// sign-in on, and hands out a token pair. Says the same, in about the same time,
    /// whether the email is unknown, the password wrong or the account disabled; only
    /// a right password reaches the second factor.
    pub async fn login(
        &self,
        origin: &Origin,
        email: &str,
        password: String,
        factor: Option<SecondFactor>,
    ) -> Result<TokenPair, DomainError> {
        text::field("email", email, Lines::One)?;
        let email = email.trim().to_lowercase();
        let known_device = match origin.refresh_token.as_deref() {
            Some(token) => self.known_device(token, &email).await?,
            None => None,
        };
        self.throttle.attempt(Attempt {
            ip: origin.ip.as_deref(),
            email: &email,
            known_device,
        })?;
        let found = account::Entity::find()
            .filter(account::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await?;
        let hash = found.as_ref().map(|a| a.password_hash.clone());
        let matches = self.hasher.verify(password, hash).await?;
        match found {
            Some(account) if matches && !account.disabled => {
                self.second_factor(account.id, factor.as_ref()).await?;
                self.start_family(&account, Uuid::now_v7()).await
            }
            _ => Err(DomainError::Unauthenticated(LOGIN_FAILED)),
        }
    }

    /// The sign-in a device proves it holds with `refresh_token`: a live, unspent token
    /// of the account that `email` names.
    async fn known_device(
        &self,
        refresh_token: &str,
        email: &str,
    ) -> Result<Option<Uuid>, DomainError> {
        let token = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(digest(refresh_token)))
            .filter(refresh_token::Column::Revoked.eq(false))
            .filter(refresh_token::Column::UsedAt.is_null())
            .filter(refresh_token::Column::ExpiresAt.gt(crate::clock::now()))
            .one(&self.db)
            .await?;
        let Some(token) = token else {
            return Ok(None);
        };
        let owner = account::Entity::find_by_id(token.account_id)
            .one(&self.db)
            .await?;
        Ok(owner
            .filter(|owner| owner.email == email)
            .map(|_| token.family_id))
    }

    /// Trades a refresh token for a new pair. Each token works once: presenting a
    /// spent one revokes every token of its family (someone else may hold a copy).
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, DomainError> {
        let refused =
            DomainError::Unauthenticated("the refresh token is invalid, spent or expired");
        let txn = self.db.begin().await?;
        let Some(token) = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(digest(refresh_token)))
            .one(&txn)
            .await?
        else {
            return Err(refused);
        };
        if token.revoked || token.used_at.is_some() {
            revoke_family(&txn, token.family_id).await?;
            txn.commit().await?;
            self.revoked(Revocation::SignIn(token.family_id));
            tracing::warn!(family = %token.family_id, "spent refresh token presented; family revoked");
            return Err(refused);
        }
        // Only one of two concurrent refreshes with the same token can spend it.
        let spent = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::UsedAt, crate::clock::now().into())
            .filter(refresh_token::Column::Id.eq(token.id))
            .filter(refresh_token::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        if spent.rows_affected != 1 || token.expires_at <= crate::clock::now() {
            txn.commit().await?;
            return Err(refused);
        }
        let account = account::Entity::find_by_id(token.account_id)
            .one(&txn)
            .await?;
        txn.commit().await?;
        match account {
            Some(account) if !account.disabled => {
                self.start_family(&account, token.family_id).await
            }
            _ => Err(refused),
        }
    }

    /// Revokes the sign-in of `refresh_token` (sign-out on this device): its refresh
    /// tokens, its access tokens and the sessions opened with them.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), DomainError> {
        let token = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(digest(refresh_token)))
            .one(&self.db)
            .await?;
        if let Some(token) = token {
            revoke_family(&self.db, token.family_id).await?;
            self.revoked(Revocation::SignIn(token.family_id));
        }
        Ok(())
    }

    /// Issues an access token and a fresh refresh token in `family`. Staff who must
    /// use two-factor sign-in and have not turned it on get a token that reaches only
    /// enrolment (each refresh asks again, so the first one after enrolling is whole).
    pub(super) async fn start_family(
        &self,
        account: &account::Model,
        family: Uuid,
    ) -> Result<TokenPair, DomainError> {
        let role = Role::stored(&account.role)?;
        let enrolment_only =
            self.require_staff_totp && role.is_staff() && !self.totp_enrolled(account.id).await?;
        let (access_token, expires_in) =
            self.access
                .issue(account.id, role, family, enrolment_only)?;
        let refresh_token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let now = crate::clock::now();
        refresh_token::Entity::insert(refresh_token::ActiveModel {
            id: Set(Uuid::now_v7()),
            family_id: Set(family),
            account_id: Set(account.id),
            token_hash: Set(digest(&refresh_token)),
            expires_at: Set(now + self.refresh_ttl),
            used_at: Set(None),
            revoked: Set(false),
            created_at: Set(now),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(TokenPair {
            access_token,
            expires_in,
            refresh_token,
        })
    }
}

pub(super) fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Revokes every refresh token of one sign-in (`family`).
pub(super) async fn revoke_family(
    conn: &impl sea_orm::ConnectionTrait,
    family: Uuid,
) -> Result<(), DomainError> {
    revoke(conn, refresh_token::Column::FamilyId.eq(family)).await
}

/// Revokes every refresh token of every sign-in of `account`.
pub(super) async fn revoke_all(
    conn: &impl sea_orm::ConnectionTrait,
    account: Uuid,
) -> Result<(), DomainError> {
    revoke(conn, refresh_token::Column::AccountId.eq(account)).await
}

async fn revoke(
    conn: &impl sea_orm::ConnectionTrait,
    which: sea_orm::sea_query::SimpleExpr,
) -> Result<(), DomainError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::Revoked, true.into())
        .filter(which)
        .exec(conn)
        .await?;
    Ok(())
}
