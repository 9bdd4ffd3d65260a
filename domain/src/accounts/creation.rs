//! What a new account must be: a normalised email, a display name, a password that
//! keeps the rules, hashed before it is stored.

use sea_orm::{ActiveValue::Set, EntityTrait};
use uuid::Uuid;

use super::password::{Hasher, check_rules};
use super::{Account, AccountService, NewAccount, account};
use crate::DomainError;
use crate::database::Db;
use crate::limits::{DISPLAY_NAME, EMAIL_MAX_CHARS};
use crate::text::{self, Lines};

/// Creates an account of any role: how the first support and admin staff are made
/// (`portal create-account`). Needs no token settings: nobody signs in here.
pub async fn create_account(db: &Db, new: NewAccount) -> Result<Account, DomainError> {
    insert(db, &Hasher::new(1), new).await
}

impl AccountService {
    /// Creates an account of any role.
    pub async fn create_account(&self, new: NewAccount) -> Result<Account, DomainError> {
        insert(&self.db, &self.hasher, new).await
    }

    pub(super) async fn account_row(
        &self,
        new: NewAccount,
        therapist_id: Option<Uuid>,
    ) -> Result<(Uuid, account::ActiveModel), DomainError> {
        account_row(&self.hasher, new, therapist_id).await
    }
}

async fn insert(db: &Db, hasher: &Hasher, new: NewAccount) -> Result<Account, DomainError> {
    let (id, row) = account_row(hasher, new, None).await?;
    account::Entity::insert(row)
        .exec_without_returning(db)
        .await
        .map_err(|e| DomainError::on_duplicate(e, "an account with this email exists"))?;
    account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound { entity: "account" })
        .and_then(Account::try_from)
}

/// The row of a new account: every rule checked, the password hashed.
async fn account_row(
    hasher: &Hasher,
    new: NewAccount,
    therapist_id: Option<Uuid>,
) -> Result<(Uuid, account::ActiveModel), DomainError> {
    let email = normalise_email(&new.email)?;
    text::field("display_name", &new.display_name, Lines::One)?;
    let display_name = new.display_name.trim().to_owned();
    if !DISPLAY_NAME.allows(display_name.chars().count()) {
        return Err(DomainError::Validation(format!(
            "display_name: {}",
            DISPLAY_NAME.requirement()
        )));
    }
    check_rules(&new.password)?;
    let password_hash = hasher.hash(new.password).await?;
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
        legal_hold: Set(false),
        erased_at: Set(None),
    };
    Ok((id, row))
}

/// Lowercased and checked: one `@`, a dotted domain, no spaces, at most
/// [`EMAIL_MAX_CHARS`] characters.
pub(super) fn normalise_email(email: &str) -> Result<String, DomainError> {
    text::field("email", email, Lines::One)?;
    let email = email.trim().to_lowercase();
    let valid = email.chars().count() <= EMAIL_MAX_CHARS
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
