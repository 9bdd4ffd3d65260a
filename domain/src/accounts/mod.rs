//! Accounts and sign-in: sign-up, login with rotating refresh tokens, bearer-token
//! authentication, and the support tools over accounts. Who may do what is decided
//! here, for REST and GraphQL alike.

mod authentication;
mod creation;
mod entity;
mod forget;
pub(crate) mod password;
mod session;
mod sign_in;
mod staff;
mod status;
mod throttle;
mod token;
mod totp;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use uuid::Uuid;

pub use creation::create_account;
pub use entity::{account, refresh_token};
pub(crate) use forget::forget_credentials;
pub use session::{Credentials, SessionEnd};
pub use throttle::ThrottleSettings;
pub use token::TokenSettings;
pub use totp::{SecondFactor, TotpEnrolment};

use crate::DomainError;
use crate::access_log::AccessLog;
use crate::actor::{Actor, Role};
use crate::cursor::CursorKey;
use crate::database::Db;
use crate::directory::NewProfile;
use password::Hasher;
use session::Notices;
use status::StatusCache;
use throttle::Throttle;
use token::AccessTokens;

/// An account as its owner and support staff see it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub therapist_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// Records kept for a legal duty: erasure is refused while set.
    pub legal_hold: bool,
    /// When the account was erased; its email and name are then a pseudonym.
    pub erased_at: Option<DateTime<Utc>>,
}

impl TryFrom<account::Model> for Account {
    type Error = DomainError;

    fn try_from(row: account::Model) -> Result<Self, DomainError> {
        Ok(Self {
            role: Role::stored(&row.role)?,
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            disabled: row.disabled,
            therapist_id: row.therapist_id,
            created_at: row.created_at,
            legal_hold: row.legal_hold,
            erased_at: row.erased_at,
        })
    }
}

/// What a new account is made of.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub role: Role,
}

/// A therapist account and the directory profile it owns, created together.
#[derive(Debug, Clone)]
pub struct NewTherapistAccount {
    pub email: String,
    pub password: String,
    pub profile: NewProfile,
}

/// A therapist's account and the directory profile it owns.
#[derive(Debug, Clone)]
pub struct TherapistAccount {
    pub account: Account,
    pub therapist: crate::directory::Therapist,
}

/// What a successful login or refresh hands out.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
}

/// Where a sign-in attempt comes from, for rate limiting.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    /// The refresh token the device holds from an earlier sign-in, if it sent one: a
    /// valid one of the same account lets it sign in past a guesser's lock-out.
    pub refresh_token: Option<String>,
}

/// Filters of the support tools' account search.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub email_prefix: Option<String>,
}

/// Settings of the account service.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    pub tokens: TokenSettings,
    pub throttle: ThrottleSettings,
    /// Password hashes computed at once; the rest wait.
    pub hashing_concurrency: usize,
    /// Support and admin accounts must sign in with two factors: until they turn it
    /// on, their tokens reach only enrolment.
    pub require_staff_totp: bool,
}

/// Signs people in and manages accounts.
#[derive(Clone)]
pub struct AccountService {
    db: Db,
    cursors: CursorKey,
    access: Arc<AccessTokens>,
    refresh_ttl: chrono::Duration,
    throttle: Arc<Throttle>,
    status: Arc<StatusCache>,
    notices: Notices,
    hasher: Hasher,
    require_staff_totp: bool,
    access_log: AccessLog,
}

impl std::fmt::Debug for AccountService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountService")
    }
}

impl AccountService {
    /// The service over `db`, logging staff reads of clients' accounts in
    /// `access_log`; refuses settings it cannot honour (a refresh-token lifetime too
    /// long to represent) instead of quietly using another.
    pub fn new(
        db: Db,
        cursors: CursorKey,
        settings: AccountSettings,
        access_log: AccessLog,
    ) -> Result<Self, DomainError> {
        let refresh_ttl =
            chrono::Duration::from_std(settings.tokens.refresh_ttl).map_err(|_| {
                DomainError::Validation("refresh token lifetime: too long to represent".into())
            })?;
        Hasher::warm_up();
        Ok(Self {
            db,
            cursors,
            access: Arc::new(AccessTokens::new(&settings.tokens)),
            refresh_ttl,
            throttle: Arc::new(Throttle::new(settings.throttle)),
            status: Arc::new(StatusCache::default()),
            notices: Notices::default(),
            hasher: Hasher::new(settings.hashing_concurrency),
            require_staff_totp: settings.require_staff_totp,
            access_log,
        })
    }

    /// The caller's own account.
    pub async fn me(&self, actor: &Actor) -> Result<Account, DomainError> {
        self.load(actor.account_id).await
    }

    pub(super) async fn load(&self, id: Uuid) -> Result<Account, DomainError> {
        account::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound { entity: "account" })
            .and_then(Account::try_from)
    }
}
