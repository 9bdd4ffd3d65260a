//! The support tools over accounts: search, disable and enable, and creating a
//! therapist with their directory profile. Support staff act on clients and
//! therapists, only admins on staff; every change is audited in its transaction.

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::session::Revocation;
use super::sign_in::revoke_all;
use super::{
    Account, AccountFilter, AccountService, NewAccount, NewTherapistAccount, TherapistAccount,
    account,
};
use crate::DomainError;
use crate::access_log::{Purpose, Read, Resource};
use crate::actor::{Actor, Role};
use crate::audit;
use crate::directory::{insert_profile, therapist_by_id};
use crate::page::{Keyset, LIST_LIMITS, Page, PageArgs, PageLimits, Pager, Position};
use crate::text;

#[derive(Serialize, Deserialize)]
struct AccountPosition(String, Uuid);

impl Position for AccountPosition {
    fn key(&self) -> (sea_orm::Value, sea_orm::Value) {
        (self.0.clone().into(), self.1.into())
    }
}

impl AccountService {
    /// Page sizes of the account search.
    pub const ACCOUNT_PAGE: PageLimits = LIST_LIMITS;

    /// One account: the caller's own, or any for support and admin.
    pub async fn account(&self, actor: &Actor, id: Uuid) -> Result<Account, DomainError> {
        if id != actor.account_id {
            actor.require_staff("read another account")?;
        }
        let account = self.load(id).await?;
        self.log_reads(actor, std::slice::from_ref(&account))
            .await?;
        Ok(account)
    }

    /// Accounts matching `filter`, by email; support and admin only.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: AccountFilter,
        page: PageArgs,
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
        let disabled = filter.disabled.map(|d| d.to_string());
        let scope = crate::cursor::scope(&[
            Some("accounts"),
            Some("email"),
            filter.role.map(Role::as_str),
            disabled.as_deref(),
            prefix.as_deref(),
        ]);
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
        let pager = Pager {
            cursors: &self.cursors,
            scope: &scope,
            limits: Self::ACCOUNT_PAGE,
        };
        let select = account::Entity::find().filter(condition);
        let page = pager
            .read(&self.db, select, keys, page, |row: &account::Model| {
                AccountPosition(row.email.clone(), row.id)
            })
            .await?
            .try_map(Account::try_from)?;
        self.log_reads(actor, &page.items).await?;
        Ok(page)
    }

    /// Logs that staff read these clients' accounts through the support tools; an
    /// error means they must not be answered.
    async fn log_reads(&self, actor: &Actor, accounts: &[Account]) -> Result<(), DomainError> {
        let reads = accounts
            .iter()
            .filter(|account| account.role == Role::Client)
            .map(|account| Read {
                client: account.id,
                resource: Resource::Account(account.id),
                purpose: Purpose::Support,
            });
        self.access_log.record(actor, reads).await
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
    ) -> Result<TherapistAccount, DomainError> {
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
        Ok(TherapistAccount {
            account: self.load(id).await?,
            therapist: therapist_by_id(&self.db, therapist_id).await?,
        })
    }
}
