//! Everything a domain call can refuse or fail with. `code()` is part of the public
//! contract: REST puts it in the problem body, GraphQL in `extensions.code`.

use sea_orm::{DbErr, RuntimeErr};

/// A refusal or failure of a domain call.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The entity does not exist, or the caller may not know that it does.
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// A query parameter is malformed or out of range.
    #[error("{parameter}: {message}")]
    InvalidParameter {
        parameter: &'static str,
        message: String,
    },
    /// A paging cursor was tampered with, or came from another order or filter set.
    #[error(
        "{parameter}: the cursor is invalid or belongs to a different query; start again from the first page"
    )]
    InvalidCursor { parameter: &'static str },
    /// A sync token was tampered with, belongs to another account, or points before
    /// what the feed still holds.
    #[error(
        "since: the sync token is invalid, belongs to another account or is too old; reload and sync from the position that gives"
    )]
    InvalidSyncToken,
    /// No valid credentials: a missing, malformed, expired or revoked token, or a
    /// failed login (which never says whether the email exists).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The password was right, but the account signs in with a second factor too and
    /// none was given.
    #[error(
        "this account uses two-factor sign-in: send `totp` (the app's current code) or `recovery_code` with the password"
    )]
    TotpRequired,
    /// A one-time code that is wrong, outside the clock drift allowed, or already used.
    #[error("the one-time code is wrong, expired or already used")]
    InvalidTotp,
    /// Staff must turn two-factor sign-in on before anything else.
    #[error(
        "staff accounts must turn on two-factor sign-in first: POST /v1/me/totp, then POST /v1/me/totp/confirm, then sign in again"
    )]
    TotpEnrolmentRequired,
    /// The caller is known but may not do this.
    #[error("you may not {action}")]
    Forbidden { action: &'static str },
    /// Too many attempts; retry after the given number of seconds.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A request body broke a rule (length, format, allowed values).
    #[error("{0}")]
    Validation(String),
    /// A retried send reused its `client_msg_id` with a different body.
    #[error("client_msg_id was already used for a different message")]
    IdempotencyKeyReused,
    /// The request conflicts with what is stored (a duplicate, a changed idempotency key).
    #[error("{0}")]
    Conflict(String),
    /// A legal hold keeps the account's records: it cannot be erased until released.
    #[error("a legal hold keeps this account's records: release the hold before erasing")]
    LegalHold,
    /// The database could not be reached in time; the caller may retry.
    #[error("the service is temporarily unavailable")]
    Unavailable,
    /// Storage failed. Its text can contain health data: log it, never show it.
    #[error("storage error")]
    Storage(#[source] DbErr),
}

impl DomainError {
    /// The stable, machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::InvalidParameter { .. } => "invalid_parameter",
            Self::InvalidCursor { .. } => "invalid_cursor",
            Self::InvalidSyncToken => "invalid_sync_token",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::TotpRequired => "totp_required",
            Self::InvalidTotp => "invalid_totp",
            Self::TotpEnrolmentRequired => "totp_enrolment_required",
            Self::Forbidden { .. } => "forbidden",
            Self::RateLimited { .. } => "rate_limited",
            Self::Validation(_) => "validation_failed",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::Conflict(_) => "conflict",
            Self::LegalHold => "legal_hold",
            Self::Unavailable => "unavailable",
            Self::Storage(_) => "internal",
        }
    }

    /// The parameter at fault, when one is.
    pub fn parameter(&self) -> Option<&'static str> {
        match self {
            Self::InvalidParameter { parameter, .. } | Self::InvalidCursor { parameter } => {
                Some(parameter)
            }
            Self::InvalidSyncToken => Some("since"),
            _ => None,
        }
    }

    pub(crate) fn invalid(parameter: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidParameter {
            parameter,
            message: message.into(),
        }
    }
}

impl DomainError {
    /// A stored value that does not parse (`column`: where it was read): corrupt data,
    /// answered as `internal` and logged, never read as some default.
    pub(crate) fn corrupt(column: &str, value: &str) -> Self {
        tracing::error!(column, value, "a stored value does not parse");
        Self::Storage(DbErr::Type(format!("{column}: {value:?} does not parse")))
    }

    /// Turns a unique-constraint violation into `Conflict(message)`; other errors as usual.
    pub(crate) fn on_duplicate(err: DbErr, message: &str) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                Self::Conflict(message.to_owned())
            }
            _ => err.into(),
        }
    }
}

impl From<DbErr> for DomainError {
    fn from(err: DbErr) -> Self {
        if is_unreachable(&err) {
            tracing::warn!(error = %err, "database unreachable");
            Self::Unavailable
        } else {
            Self::Storage(err)
        }
    }
}

/// Whether `err` says the database could not be reached (a retry may succeed), as
/// opposed to a statement that failed.
fn is_unreachable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(
                e.as_ref(),
                Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed
            ) || is_broken_connection(err)
        }
        _ => false,
    }
}

/// SQLSTATEs that say the session is gone, not that the statement was wrong:
/// PostgreSQL's admin shutdown, crash shutdown and "cannot connect now" (57P01-03),
/// any connection exception (class 08), MariaDB's killed connection (70100).
const GONE_SESSION_STATES: [&str; 4] = ["57P01", "57P02", "57P03", "70100"];

/// Whether a statement failed because its pooled connection broke (reset, broken
/// pipe, the server ended the session): another connection may well succeed.
pub(crate) fn is_broken_connection(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    match e.as_ref() {
        Sqlx::Io(_) => true,
        Sqlx::Database(db) => db.code().is_some_and(|code| {
            GONE_SESSION_STATES.contains(&code.as_ref()) || code.starts_with("08")
        }),
        _ => false,
    }
}
