//! Compaction: feed entries older than the retention period are deleted, from the
//! oldest, so an account's feed is always an unbroken range of positions. A token
//! whose next position is gone is then told so (`ChatService::sync` sees the range
//! start above it) instead of silently skipping what was compacted.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::entity::feed;
use crate::DomainError;
use crate::database::Db;

/// How often a node looks for entries past retention.
const EVERY: Duration = Duration::from_secs(3600);

/// Deletes the feed entries recorded before `cutoff`; how many there were.
pub async fn compact(db: &Db, cutoff: DateTime<Utc>) -> Result<u64, DomainError> {
    let deleted = feed::Entity::delete_many()
        .filter(feed::Column::RecordedAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// Compacts the feed to `retention` every hour until `stop` resolves. Every node
/// runs it; a second node deleting the same rows deletes none.
pub async fn compact_every(db: Db, retention: Duration, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        let cutoff = crate::clock::now()
            - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
        match compact(&db, cutoff).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "sync feed entries past retention deleted"),
            Err(err) => tracing::warn!(error = %err, "the sync feed could not be compacted"),
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = &mut stop => return,
        }
    }
}
