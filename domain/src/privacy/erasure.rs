//! Erasure (GDPR Art. 17) and the legal hold that can forbid it. Erasing a person
//! replaces them with a pseudonym and deletes every copy of what they wrote, in one
//! transaction: the other members' history keeps its seqs, as tombstones.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::PrivacyService;
use crate::DomainError;
use crate::access_log::{Purpose, Read, Resource};
use crate::accounts::{Account, account, forget_credentials};
use crate::actor::Actor;
use crate::audit;
use crate::chat::{member, message, revision};
use crate::directory::{language, specialty, therapist};
use crate::limits;
use crate::push::{outbox_entity as outbox, subscription};
use crate::sync::{feed, head, pending};
use crate::text::{self, Lines};

/// What an erasure did.
#[derive(Debug, Clone)]
pub struct Erasure {
    /// The account as it is now: a pseudonym.
    pub account: Account,
    /// Messages whose body was deleted by this call.
    pub messages_erased: u64,
    /// The account had been erased before: nothing was left to do.
    pub already_erased: bool,
}

/// What an erased account shows instead of the person.
struct Pseudonym {
    email: String,
    display_name: String,
}

impl Pseudonym {
    /// Derived from the account id alone, so it says nothing about the person.
    fn of(account: Uuid) -> Self {
        let short = &account.simple().to_string()[..12];
        Self {
            email: format!("erased-{}@erased.invalid", account.simple()),
            display_name: format!("Erased account {short}"),
        }
    }
}

/// Stored as the password hash of an erased account: no password hashes to it, so
/// the account can never sign in again, even if someone enables it.
const NO_PASSWORD: &str = "!erased";

impl PrivacyService {
    /// Erases `person` (admins only; never oneself), audited with `reason`: signed
    /// out everywhere, their credentials, devices, pending pushes and change feed
    /// deleted, their email and name replaced by a pseudonym, their directory profile
    /// removed, and the body and earlier bodies of every message they sent deleted.
    /// Refused while a legal hold is set; erasing again does nothing.
    pub async fn erase(
        &self,
        actor: &Actor,
        person: Uuid,
        reason: Option<&str>,
    ) -> Result<Erasure, DomainError> {
        actor.require_admin("erase accounts")?;
        let reason = checked_reason(reason)?;
        if person == actor.account_id {
            return Err(DomainError::Forbidden {
                action: "erase your own account",
            });
        }
        let account = self.person(person).await?;
        if account.erased_at.is_some() {
            return Ok(Erasure {
                account,
                messages_erased: 0,
                already_erased: true,
            });
        }
        if account.legal_hold {
            return Err(DomainError::LegalHold);
        }
        let read = Read {
            client: person,
            resource: Resource::Account(person),
            purpose: Purpose::Erasure,
        };
        self.access_log.record(actor, [read]).await?;

        let txn = self.db.begin().await?;
        if !pseudonymise(&txn, person).await? {
            // A hold was placed, or another erasure finished, since the check above.
            drop(txn);
            let account = self.person(person).await?;
            if account.legal_hold {
                return Err(DomainError::LegalHold);
            }
            return Ok(Erasure {
                account,
                messages_erased: 0,
                already_erased: true,
            });
        }
        if let Some(profile) = account.therapist_id {
            remove_profile(&txn, profile).await?;
        }
        forget_credentials(&txn, person).await?;
        forget_copies(&txn, person).await?;
        let messages_erased = erase_messages(&txn, person).await?;
        audit::record_because(
            &txn,
            actor,
            "account.erase",
            "account",
            person,
            Some(reason),
        )
        .await?;
        txn.commit().await?;
        self.accounts.signed_out_everywhere(person);
        Ok(Erasure {
            account: self.person(person).await?,
            messages_erased,
            already_erased: false,
        })
    }

    /// Places or releases a legal hold on `person` (admins only), audited with
    /// `reason`. An erased account has nothing left to hold.
    pub async fn set_legal_hold(
        &self,
        actor: &Actor,
        person: Uuid,
        held: bool,
        reason: Option<&str>,
    ) -> Result<Account, DomainError> {
        actor.require_admin("place or release legal holds")?;
        let reason = checked_reason(reason)?;
        let account = self.person(person).await?;
        if account.erased_at.is_some() {
            return Err(DomainError::Conflict(
                "the account was erased: nothing is left to hold".into(),
            ));
        }
        let txn = self.db.begin().await?;
        account::Entity::update_many()
            .col_expr(account::Column::LegalHold, held.into())
            .col_expr(account::Column::UpdatedAt, crate::clock::now().into())
            .filter(account::Column::Id.eq(person))
            .exec(&txn)
            .await?;
        let action = if held {
            "account.legal_hold.place"
        } else {
            "account.legal_hold.release"
        };
        audit::record_because(&txn, actor, action, "account", person, Some(reason)).await?;
        txn.commit().await?;
        self.person(person).await
    }
}

/// A reason given for erasing or holding: required, one line, at most 500 characters.
fn checked_reason(reason: Option<&str>) -> Result<&str, DomainError> {
    let reason = reason.map(str::trim).unwrap_or_default();
    if !limits::REASON.allows(reason.chars().count()) {
        return Err(DomainError::Validation(format!(
            "reason: required, {} to {} characters",
            limits::REASON.min,
            limits::REASON.max
        )));
    }
    text::field("reason", reason, Lines::One)?;
    Ok(reason)
}

/// Replaces the person with their pseudonym and disables the account for good;
/// false when it is held or already erased (then nothing changed).
async fn pseudonymise(conn: &impl ConnectionTrait, person: Uuid) -> Result<bool, DomainError> {
    let pseudonym = Pseudonym::of(person);
    let now = crate::clock::now();
    let changed = account::Entity::update_many()
        .col_expr(account::Column::Email, pseudonym.email.into())
        .col_expr(account::Column::DisplayName, pseudonym.display_name.into())
        .col_expr(account::Column::PasswordHash, NO_PASSWORD.into())
        .col_expr(account::Column::Disabled, true.into())
        .col_expr(
            account::Column::TherapistId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(account::Column::ErasedAt, Expr::value(Some(now)))
        .col_expr(account::Column::UpdatedAt, now.into())
        .filter(account::Column::Id.eq(person))
        .filter(account::Column::LegalHold.eq(false))
        .filter(account::Column::ErasedAt.is_null())
        .exec(conn)
        .await?;
    Ok(changed.rows_affected == 1)
}

/// Takes a therapist's profile out of the directory, with its tags.
async fn remove_profile(conn: &impl ConnectionTrait, profile: Uuid) -> Result<(), DomainError> {
    specialty::Entity::delete_many()
        .filter(specialty::Column::TherapistId.eq(profile))
        .exec(conn)
        .await?;
    language::Entity::delete_many()
        .filter(language::Column::TherapistId.eq(profile))
        .exec(conn)
        .await?;
    therapist::Entity::delete_by_id(profile).exec(conn).await?;
    Ok(())
}

/// The other copies the server keeps for the person: devices, pending pushes, the
/// change feed.
async fn forget_copies(conn: &impl ConnectionTrait, person: Uuid) -> Result<(), DomainError> {
    subscription::Entity::delete_many()
        .filter(subscription::Column::AccountId.eq(person))
        .exec(conn)
        .await?;
    outbox::Entity::delete_many()
        .filter(outbox::Column::AccountId.eq(person))
        .exec(conn)
        .await?;
    feed::Entity::delete_many()
        .filter(feed::Column::AccountId.eq(person))
        .exec(conn)
        .await?;
    head::Entity::delete_many()
        .filter(head::Column::AccountId.eq(person))
        .exec(conn)
        .await?;
    pending::Entity::delete_many()
        .filter(pending::Column::AccountId.eq(person))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes the body and every earlier body of each message the person sent, one
/// conversation at a time (each a range of the messages' primary key), leaving
/// tombstones; the number of bodies deleted.
async fn erase_messages(conn: &impl ConnectionTrait, person: Uuid) -> Result<u64, DomainError> {
    let conversations: Vec<Uuid> = member::Entity::find()
        .filter(member::Column::AccountId.eq(person))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.conversation_id)
        .collect();
    let now = crate::clock::now();
    let mut erased = 0;
    for conversation in conversations {
        let theirs = sea_orm::sea_query::Query::select()
            .column(message::Column::Seq)
            .from(message::Entity)
            .and_where(message::Column::ConversationId.eq(conversation))
            .and_where(message::Column::SenderId.eq(person))
            .to_owned();
        revision::Entity::delete_many()
            .filter(revision::Column::ConversationId.eq(conversation))
            .filter(revision::Column::Seq.in_subquery(theirs))
            .exec(conn)
            .await?;
        let result = message::Entity::update_many()
            .col_expr(message::Column::Body, Expr::value(Option::<String>::None))
            .col_expr(message::Column::DeletedAt, Expr::value(Some(now)))
            .filter(message::Column::ConversationId.eq(conversation))
            .filter(message::Column::SenderId.eq(person))
            .filter(message::Column::Body.is_not_null())
            .exec(conn)
            .await?;
        erased += result.rows_affected;
    }
    Ok(erased)
}
