//! Accounts and sign-in: sign-up, login with rotating refresh tokens, bearer-token
//! authentication, and the support tools over accounts. Who may do what is decided
//! here, for REST and GraphQL alike.

mod entity;
pub(crate) mod password;
mod session;
mod status;
mod throttle;
mod token;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use entity::{account, refresh_token};
pub use session::{Credentials, SessionEnd};
pub use throttle::ThrottleSettings;
pub use token::TokenSettings;

use crate::DomainError;
use crate::actor::{Actor, Role};
use crate::audit;
use crate::cursor::CursorKey;
use crate::database::Db;
use crate::directory::{NewProfile, insert_profile};
use crate::page::{Keyset, Page, PageRequest, read_page};
use crate::text::{self, Lines};
use password::{Hasher, check_rules};
use session::{Notices, Revocation};
use status::{Standing, StatusCache};
use throttle::{Attempt, Throttle};
use token::AccessTokens;

const MAX_EMAIL_CHARS: usize = 254;
const LOGIN_FAILED: &str = "the email or password is wrong";

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
}

impl From<account::Model> for Account {
    fn from(row: account::Model) -> Self {
        Self {
            role: Role::parse(&row.role).unwrap_or(Role::Client),
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            disabled: row.disabled,
            therapist_id: row.therapist_id,
            created_at: row.created_at,
        }
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
}

impl std::fmt::Debug for AccountService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountService")
    }
}

#[derive(Serialize, Deserialize)]
struct AccountPosition(String, Uuid);

impl AccountService {
    pub fn new(db: Db, cursors: CursorKey, settings: AccountSettings) -> Self {
        Hasher::warm_up();
        Self {
            db,
            cursors,
            access: Arc::new(AccessTokens::new(&settings.tokens)),
            refresh_ttl: chrono::Duration::from_std(settings.tokens.refresh_ttl)
                .unwrap_or(chrono::Duration::days(30)),
            throttle: Arc::new(Throttle::new(settings.throttle)),
            status: Arc::new(StatusCache::default()),
            notices: Notices::default(),
            hasher: Hasher::new(settings.hashing_concurrency),
        }
    }

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

    /// Creates an account of any role (the `create-account` command's bootstrap path).
    pub async fn create_account(&self, new: NewAccount) -> Result<Account, DomainError> {
        let (id, row) = self.account_row(new, None).await?;
        account::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
            .map_err(|e| DomainError::on_duplicate(e, "an account with this email exists"))?;
        self.load(id).await
    }

    /// Checks the password and hands out a token pair. Says the same, in about the
    /// same time, whether the email is unknown, the password wrong or the account
    /// disabled.
    pub async fn login(
        &self,
        origin: &Origin,
        email: &str,
        password: String,
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
            },
            sign_in: token.sign_in,
            usable_until: token.usable_until,
        })
    }

    /// Makes this node forget what it cached about a revoked account or sign-in and
    /// tells the sessions it holds, which end at once.
    fn revoked(&self, revocation: Revocation) {
        match revocation {
            Revocation::Account(account) => self.status.forget_account(account),
            Revocation::SignIn(sign_in) => self.status.forget_sign_in(sign_in),
        }
        self.notices.send(revocation);
    }

    /// The caller's own account.
    pub async fn me(&self, actor: &Actor) -> Result<Account, DomainError> {
        self.load(actor.account_id).await
    }

    /// Accounts matching `filter`, by email; support and admin only.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: AccountFilter,
        page: PageRequest,
    ) -> Result<Page<Account>, DomainError> {
        actor.require_staff("search accounts")?;
        if let Some(prefix) = &filter.email_prefix {
            text::parameter("email_prefix", prefix)?;
        }
        let prefix = filter
            .email_prefix
            .as_deref()
            .map(str::trim)
            .map(str::to_lowercase);
        let scope = format!(
            "accounts|email|r={}|d={}|p={}",
            filter.role.map(Role::as_str).unwrap_or(""),
            filter.disabled.map(|d| d.to_string()).unwrap_or_default(),
            prefix.as_deref().unwrap_or(""),
        );
        let position: Option<AccountPosition> = page.position(&self.cursors, &scope)?;
        let mut condition = Condition::all();
        if let Some(role) = filter.role {
            condition = condition.add(account::Column::Role.eq(role.as_str()));
        }
        if let Some(disabled) = filter.disabled {
            condition = condition.add(account::Column::Disabled.eq(disabled));
        }
        if let Some(prefix) = prefix.as_deref().filter(|p| !p.is_empty()) {
            condition = condition.add(crate::sql::starts_with(account::Column::Email, prefix));
        }
        let keys = Keyset {
            sort: account::Column::Email,
            id: account::Column::Id,
            ascending: true,
        };
        let position = position.map(|AccountPosition(email, id)| (email.into(), id.into()));
        let select = account::Entity::find().filter(condition);
        let rows = read_page(&self.db, select, keys, position, &page).await?;
        Ok(
            Page::new(&page, rows.rows, rows.has_next, rows.has_prev, |row| {
                self.cursors
                    .seal(&scope, &AccountPosition(row.email.clone(), row.id))
            })
            .map(Account::from),
        )
    }

    /// Disables or re-enables an account; support and admin only, audited. Support
    /// staff act on clients and therapists; only admins act on staff; nobody on
    /// themselves.
    pub async fn set_disabled(
        &self,
        actor: &Actor,
        id: Uuid,
        disabled: bool,
    ) -> Result<Account, DomainError> {
        actor.require_staff("disable or enable accounts")?;
        if id == actor.account_id {
            return Err(DomainError::Forbidden {
                action: "disable or enable your own account",
            });
        }
        let target = self.load(id).await?;
        if target.role.is_staff() {
            actor.require_admin("disable or enable staff accounts")?;
        }
        let txn = self.db.begin().await?;
        account::Entity::update_many()
            .col_expr(account::Column::Disabled, disabled.into())
            .col_expr(account::Column::UpdatedAt, crate::clock::now().into())
            .filter(account::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        if disabled {
            revoke_all(&txn, id).await?;
        }
        let action = if disabled {
            "account.disable"
        } else {
            "account.enable"
        };
        audit::record(&txn, actor, action, "account", id).await?;
        txn.commit().await?;
        if disabled {
            self.revoked(Revocation::Account(id));
        } else {
            self.status.forget_account(id);
        }
        self.load(id).await
    }

    /// Creates a therapist account and its directory profile in one transaction;
    /// support and admin only, audited.
    pub async fn create_therapist(
        &self,
        actor: &Actor,
        new: NewTherapistAccount,
    ) -> Result<Account, DomainError> {
        actor.require_staff("create therapist accounts")?;
        let display_name = new.profile.display_name.clone();
        let txn = self.db.begin().await?;
        let therapist_id = insert_profile(&txn, new.profile).await?;
        let (id, row) = self
            .account_row(
                NewAccount {
                    email: new.email,
                    password: new.password,
                    display_name,
                    role: Role::Therapist,
                },
                Some(therapist_id),
            )
            .await?;
        account::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(|e| DomainError::on_duplicate(e, "an account with this email exists"))?;
        audit::record(&txn, actor, "therapist.create", "account", id).await?;
        txn.commit().await?;
        self.load(id).await
    }

    async fn account_row(
        &self,
        new: NewAccount,
        therapist_id: Option<Uuid>,
    ) -> Result<(Uuid, account::ActiveModel), DomainError> {
        let email = normalise_email(&new.email)?;
        text::field("display_name", &new.display_name, Lines::One)?;
        let display_name = new.display_name.trim().to_owned();
        if !(1..=200).contains(&display_name.chars().count()) {
            return Err(DomainError::Validation(
                "display_name: must be 1 to 200 characters".into(),
            ));
        }
        check_rules(&new.password)?;
        let password_hash = self.hasher.hash(new.password).await?;
        let now = crate::clock::now();
        let id = Uuid::now_v7();
        let row = account::ActiveModel {
            id: Set(id),
            email: Set(email),
            display_name: Set(display_name),
            role: Set(new.role.as_str().to_owned()),
            disabled: Set(false),
            password_hash: Set(password_hash),
            therapist_id: Set(therapist_id),
            created_at: Set(now),
            updated_at: Set(now),
        };
        Ok((id, row))
    }

    async fn load(&self, id: Uuid) -> Result<Account, DomainError> {
        account::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(Account::from)
            .ok_or(DomainError::NotFound { entity: "account" })
    }

    /// Issues an access token and a fresh refresh token in `family`.
    async fn start_family(
        &self,
        account: &account::Model,
        family: Uuid,
    ) -> Result<TokenPair, DomainError> {
        let role = Role::parse(&account.role).unwrap_or(Role::Client);
        let (access_token, expires_in) = self.access.issue(account.id, role, family)?;
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

/// Lowercased and checked: one `@`, a dotted domain, no spaces, at most 254 characters.
fn normalise_email(email: &str) -> Result<String, DomainError> {
    text::field("email", email, Lines::One)?;
    let email = email.trim().to_lowercase();
    let valid = email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(char::is_whitespace)
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(email)
    } else {
        Err(DomainError::Validation(
            "email: not a valid email address".into(),
        ))
    }
}

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn revoke_family(
    conn: &impl sea_orm::ConnectionTrait,
    family: Uuid,
) -> Result<(), DomainError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::Revoked, true.into())
        .filter(refresh_token::Column::FamilyId.eq(family))
        .exec(conn)
        .await?;
    Ok(())
}

async fn revoke_all(
    conn: &impl sea_orm::ConnectionTrait,
    account: Uuid,
) -> Result<(), DomainError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::Revoked, true.into())
        .filter(refresh_token::Column::AccountId.eq(account))
        .exec(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            normalise_email(" Ada@Example.ORG ").ok().as_deref(),
            Some("ada@example.org")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a da@example.org",
            "a@b@c.de",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }
}
