//! Two-factor sign-in with RFC 6238 codes: enrolment (a secret, confirmed by a first
//! code, which hands out ten one-time recovery codes), the second factor a login of
//! an enrolled account must bring, and removal. Each code works once: the last step
//! accepted is stored and only later ones pass, by a conditional update, so two
//! requests racing with one code cannot both win.

mod code;
mod entity;
mod recovery;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::AccountService;
use crate::DomainError;
use crate::actor::Actor;
use entity::{recovery_code, secret};

/// What an authenticator app is given to start: the secret (for typing in) and the
/// `otpauth://` URI (for a QR code).
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    pub secret: String,
    pub uri: String,
}

/// The second factor a sign-in or a removal brings: a current code, or one of the
/// recovery codes.
#[derive(Debug, Clone)]
pub enum SecondFactor {
    Code(String),
    RecoveryCode(String),
}

impl SecondFactor {
    /// The factor a request names with its `totp` and `recovery_code` fields: one
    /// of them, or none.
    pub fn from_fields(
        totp: Option<String>,
        recovery_code: Option<String>,
    ) -> Result<Option<Self>, DomainError> {
        match (totp, recovery_code) {
            (Some(_), Some(_)) => Err(DomainError::Validation(
                "send `totp` or `recovery_code`, not both".into(),
            )),
            (Some(code), None) => Ok(Some(Self::Code(code))),
            (None, Some(code)) => Ok(Some(Self::RecoveryCode(code))),
            (None, None) => Ok(None),
        }
    }

    /// As `from_fields`, where one of them is required.
    pub fn required(
        code: Option<String>,
        recovery_code: Option<String>,
    ) -> Result<Self, DomainError> {
        Self::from_fields(code, recovery_code)?
            .ok_or_else(|| DomainError::Validation("send a current code or a recovery code".into()))
    }
}

/// The name apps show next to the account.
const ISSUER: &str = "Therapist Portal";

impl AccountService {
    /// Starts enrolment for the caller: a new secret, pending until
    /// `confirm_totp`. Starting again replaces a pending secret; an account that has
    /// two-factor sign-in on must remove it first.
    pub async fn start_totp(&self, actor: &Actor) -> Result<TotpEnrolment, DomainError> {
        let account = self.load(actor.account_id).await?;
        let txn = self.db.begin().await?;
        let existing = secret::Entity::find_by_id(account.id).one(&txn).await?;
        if existing
            .as_ref()
            .is_some_and(|row| row.confirmed_at.is_some())
        {
            return Err(DomainError::Conflict(
                "two-factor sign-in is already on; remove it first to enrol another app".into(),
            ));
        }
        secret::Entity::delete_by_id(account.id).exec(&txn).await?;
        let shared = code::new_secret();
        secret::Entity::insert(secret::ActiveModel {
            account_id: Set(account.id),
            secret: Set(shared.clone()),
            confirmed_at: Set(None),
            last_step: Set(None),
            created_at: Set(crate::clock::now()),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        let uri = otpauth_uri(&shared, &account.email);
        Ok(TotpEnrolment {
            secret: shared,
            uri,
        })
    }

    /// Finishes enrolment with a first code from the app; answers the ten recovery
    /// codes, shown this once (only their hashes are kept).
    pub async fn confirm_totp(
        &self,
        actor: &Actor,
        code: &str,
    ) -> Result<Vec<String>, DomainError> {
        self.throttle.code_attempt(actor.account_id)?;
        let pending = secret::Entity::find_by_id(actor.account_id)
            .one(&self.db)
            .await?
            .filter(|row| row.confirmed_at.is_none())
            .ok_or_else(|| {
                DomainError::Conflict(
                    "no enrolment is pending: start one with POST /v1/me/totp".into(),
                )
            })?;
        let txn = self.db.begin().await?;
        let step = self.spend_code(&txn, &pending, code).await?;
        secret::Entity::update_many()
            .col_expr(
                secret::Column::ConfirmedAt,
                Expr::value(crate::clock::now()),
            )
            .col_expr(secret::Column::LastStep, Expr::value(step))
            .filter(secret::Column::AccountId.eq(actor.account_id))
            .exec(&txn)
            .await?;
        let codes = recovery::replace(&txn, actor.account_id).await?;
        txn.commit().await?;
        Ok(codes)
    }

    /// Turns two-factor sign-in off for the caller, proved by a current code or a
    /// recovery code.
    pub async fn remove_totp(
        &self,
        actor: &Actor,
        factor: &SecondFactor,
    ) -> Result<(), DomainError> {
        self.throttle.code_attempt(actor.account_id)?;
        let txn = self.db.begin().await?;
        let enrolled = confirmed(&txn, actor.account_id)
            .await?
            .ok_or(DomainError::Conflict("two-factor sign-in is not on".into()))?;
        self.check_factor(&txn, &enrolled, factor).await?;
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::AccountId.eq(actor.account_id))
            .exec(&txn)
            .await?;
        secret::Entity::delete_by_id(actor.account_id)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Whether `account` signs in with a second factor.
    pub(super) async fn totp_enrolled(&self, account: Uuid) -> Result<bool, DomainError> {
        Ok(confirmed(&self.db, account).await?.is_some())
    }

    /// The second-factor check of a login whose password was right: nothing to do
    /// for an account without two-factor sign-in; otherwise `factor` must be given
    /// and valid, and is spent.
    pub(super) async fn second_factor(
        &self,
        account: Uuid,
        factor: Option<&SecondFactor>,
    ) -> Result<(), DomainError> {
        let Some(enrolled) = confirmed(&self.db, account).await? else {
            return Ok(());
        };
        let factor = factor.ok_or(DomainError::TotpRequired)?;
        let txn = self.db.begin().await?;
        self.check_factor(&txn, &enrolled, factor).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn check_factor(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        enrolled: &secret::Model,
        factor: &SecondFactor,
    ) -> Result<(), DomainError> {
        match factor {
            SecondFactor::Code(code) => self.spend_code(txn, enrolled, code).await.map(|_| ()),
            SecondFactor::RecoveryCode(code) => {
                recovery::spend(txn, enrolled.account_id, code).await
            }
        }
    }

    /// Accepts `code` for `row` once: its step must follow the last one accepted, and
    /// it becomes the last one accepted.
    async fn spend_code(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        row: &secret::Model,
        code: &str,
    ) -> Result<i64, DomainError> {
        let now_step = code::step_at(crate::clock::now().timestamp());
        let step =
            code::matching_step(&row.secret, code, now_step).ok_or(DomainError::InvalidTotp)?;
        let later = Condition::any()
            .add(secret::Column::LastStep.is_null())
            .add(secret::Column::LastStep.lt(step));
        let spent = secret::Entity::update_many()
            .col_expr(secret::Column::LastStep, Expr::value(step))
            .filter(secret::Column::AccountId.eq(row.account_id))
            .filter(later)
            .exec(txn)
            .await?;
        if spent.rows_affected != 1 {
            return Err(DomainError::InvalidTotp);
        }
        Ok(step)
    }
}

/// The confirmed secret of `account`, if two-factor sign-in is on.
async fn confirmed(
    conn: &impl sea_orm::ConnectionTrait,
    account: Uuid,
) -> Result<Option<secret::Model>, DomainError> {
    Ok(secret::Entity::find_by_id(account)
        .filter(secret::Column::ConfirmedAt.is_not_null())
        .one(conn)
        .await?)
}

/// The Key URI Format authenticator apps read from a QR code.
fn otpauth_uri(secret: &str, email: &str) -> String {
    let mut uri = url::Url::parse("otpauth://totp/").expect("a valid base");
    uri.path_segments_mut()
        .expect("a base with a path")
        .pop_if_empty()
        .push(&format!("{ISSUER}:{email}"));
    uri.query_pairs_mut()
        .append_pair("secret", secret)
        .append_pair("issuer", ISSUER)
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", &code::DIGITS.to_string())
        .append_pair("period", &code::STEP_SECS.to_string());
    uri.into()
}

/// Deletes `account`'s second factor and recovery codes, on `conn` (erasure's
/// transaction).
pub(crate) async fn forget(
    conn: &impl sea_orm::ConnectionTrait,
    account: Uuid,
) -> Result<(), DomainError> {
    secret::Entity::delete_many()
        .filter(secret::Column::AccountId.eq(account))
        .exec(conn)
        .await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::AccountId.eq(account))
        .exec(conn)
        .await?;
    Ok(())
}
