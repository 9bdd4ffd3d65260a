//! Recovery codes: ten one-time codes handed out when two-factor sign-in is turned
//! on, for the day the phone is lost. 50 random bits each, so a plain SHA-256 is
//! enough to keep them (no one can guess through 2^50 codes at the login's rate).

use data_encoding::BASE32_NOPAD;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entity::recovery_code;
use crate::DomainError;

/// Codes handed out at once.
pub(super) const COUNT: usize = 10;

/// Replaces `account`'s recovery codes with `COUNT` new ones, answered as shown to
/// the person: ten lowercase base32 characters, split by a dash.
pub(super) async fn replace(
    txn: &impl ConnectionTrait,
    account: Uuid,
) -> Result<Vec<String>, DomainError> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::AccountId.eq(account))
        .exec(txn)
        .await?;
    let codes: Vec<String> = (0..COUNT).map(|_| new_code()).collect();
    let rows = codes.iter().map(|code| recovery_code::ActiveModel {
        account_id: Set(account),
        code_hash: Set(hash(code)),
        used_at: Set(None),
    });
    recovery_code::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(codes)
}

/// Spends one of `account`'s unused recovery codes, or refuses.
pub(super) async fn spend(
    txn: &impl ConnectionTrait,
    account: Uuid,
    code: &str,
) -> Result<(), DomainError> {
    let spent = recovery_code::Entity::update_many()
        .col_expr(
            recovery_code::Column::UsedAt,
            Expr::value(crate::clock::now()),
        )
        .filter(recovery_code::Column::AccountId.eq(account))
        .filter(recovery_code::Column::CodeHash.eq(hash(code)))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(txn)
        .await?;
    if spent.rows_affected == 1 {
        Ok(())
    } else {
        Err(DomainError::InvalidTotp)
    }
}

fn new_code() -> String {
    let text = BASE32_NOPAD
        .encode(&rand::random::<[u8; 10]>())
        .to_lowercase();
    format!("{}-{}", &text[..5], &text[5..10])
}

/// The stored form: as typed, in any case, with or without the dash.
fn hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    crate::accounts::sign_in::digest(&normal)
}
