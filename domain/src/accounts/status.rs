//! Whether an account may act and whether a sign-in is still live, cached for a few
//! seconds: a disabled account's tokens, and the tokens of a sign-in that signed out
//! or was revoked, stop working within `TTL` on every node, without a query on every
//! request. The node that made the change forgets its entry, so there it is at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::entity::{account, refresh_token};
use crate::DomainError;
use crate::database::Db;

/// How stale a cached answer may be.
pub(crate) const TTL: Duration = Duration::from_secs(5);
/// Entries kept before stale ones are pruned.
const PRUNE_ABOVE: usize = 50_000;

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    Active,
    Disabled,
    /// No such account: a token naming it was never issued by an honest node.
    Unknown,
}

/// Account standings and sign-in liveness, each read at most once per `TTL`.
#[derive(Debug, Default)]
pub(crate) struct StatusCache {
    accounts: Fresh<Standing>,
    sign_ins: Fresh<bool>,
}

impl StatusCache {
    /// Where `account` stands, at most `max_age` old.
    pub(crate) async fn standing(
        &self,
        db: &Db,
        account: Uuid,
        max_age: Duration,
    ) -> Result<Standing, DomainError> {
        if let Some(standing) = self.accounts.get(account, max_age) {
            return Ok(standing);
        }
        let disabled: Option<bool> = account::Entity::find_by_id(account)
            .select_only()
            .column(account::Column::Disabled)
            .into_tuple()
            .one(db)
            .await?;
        let standing = match disabled {
            Some(false) => Standing::Active,
            Some(true) => Standing::Disabled,
            None => Standing::Unknown,
        };
        self.accounts.put(account, standing);
        Ok(standing)
    }

    /// Whether `sign_in` (a refresh-token family) of `account` is still live: some
    /// token of it is unrevoked. Signing out, a disable and a replayed refresh token
    /// revoke every token of a family.
    pub(crate) async fn sign_in_live(
        &self,
        db: &Db,
        account: Uuid,
        sign_in: Uuid,
        max_age: Duration,
    ) -> Result<bool, DomainError> {
        if let Some(live) = self.sign_ins.get(sign_in, max_age) {
            return Ok(live);
        }
        let unrevoked: Option<Uuid> = refresh_token::Entity::find()
            .select_only()
            .column(refresh_token::Column::Id)
            .filter(refresh_token::Column::FamilyId.eq(sign_in))
            .filter(refresh_token::Column::AccountId.eq(account))
            .filter(refresh_token::Column::Revoked.eq(false))
            .into_tuple()
            .one(db)
            .await?;
        let live = unrevoked.is_some();
        self.sign_ins.put(sign_in, live);
        Ok(live)
    }

    /// Forgets `account`, after this node changed it.
    pub(crate) fn forget_account(&self, account: Uuid) {
        self.accounts.forget(account);
    }

    /// Forgets `sign_in`, after this node revoked it.
    pub(crate) fn forget_sign_in(&self, sign_in: Uuid) {
        self.sign_ins.forget(sign_in);
    }
}

/// Id -> (value, when it was read).
#[derive(Debug)]
struct Fresh<T> {
    entries: Mutex<HashMap<Uuid, (T, Instant)>>,
}

impl<T> Default for Fresh<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
        }
    }
}

impl<T: Copy> Fresh<T> {
    fn get(&self, id: Uuid, max_age: Duration) -> Option<T> {
        let (value, read) = self.lock().get(&id).copied()?;
        (read.elapsed() < max_age.min(TTL)).then_some(value)
    }

    fn put(&self, id: Uuid, value: T) {
        let mut entries = self.lock();
        if entries.len() > PRUNE_ABOVE {
            entries.retain(|_, (_, read)| read.elapsed() < TTL);
        }
        entries.insert(id, (value, Instant::now()));
    }

    fn forget(&self, id: Uuid) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (T, Instant)>> {
        // A panic while holding the lock leaves plain data behind: still usable.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
