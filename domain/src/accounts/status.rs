//! Whether an account may act, cached for a few seconds: a disabled account's tokens
//! stop working within `TTL` on every node, without a query on every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};
use uuid::Uuid;

use super::entity::account;
use crate::DomainError;

/// How stale an account's status may be.
const TTL: Duration = Duration::from_secs(5);
/// Entries kept before stale ones are pruned.
const PRUNE_ABOVE: usize = 50_000;

/// Account id -> (may act, when that was read).
#[derive(Debug, Default)]
pub(crate) struct StatusCache {
    entries: Mutex<HashMap<Uuid, (bool, Instant)>>,
}

impl StatusCache {
    /// Whether `account` exists and is not disabled.
    pub(crate) async fn is_active(
        &self,
        db: &DatabaseConnection,
        account: Uuid,
    ) -> Result<bool, DomainError> {
        let cached = self.lock().get(&account).copied();
        if let Some((active, read)) = cached
            && read.elapsed() < TTL
        {
            return Ok(active);
        }
        let disabled: Option<bool> = account::Entity::find_by_id(account)
            .select_only()
            .column(account::Column::Disabled)
            .into_tuple()
            .one(db)
            .await?;
        let active = disabled == Some(false);
        let mut entries = self.lock();
        if entries.len() > PRUNE_ABOVE {
            entries.retain(|_, (_, read)| read.elapsed() < TTL);
        }
        entries.insert(account, (active, Instant::now()));
        Ok(active)
    }

    /// Forgets `account`, after this node changed it.
    pub(crate) fn forget(&self, account: Uuid) {
        self.lock().remove(&account);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (bool, Instant)>> {
        // A panic while holding the lock leaves plain data behind: still usable.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
