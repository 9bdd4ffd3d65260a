//! Resuming a stream from the change feed: the one rule every door (SSE
//! `Last-Event-ID`, the GraphQL `changes` subscription) follows when a client
//! reconnects with the last position it saw.

use super::{Change, ChatService, FeedCursor};
use crate::DomainError;
use crate::actor::Actor;

/// What a reconnecting stream sends before it goes live.
#[derive(Debug, Clone)]
pub struct Resumption {
    /// The changes the client missed, in order: at most one page.
    pub changes: Vec<Change>,
    /// Set when more changes follow than one page holds: the stream ends after
    /// `changes`, and the client pages on through `sync` with this token.
    pub limited: Option<String>,
    /// Set when the client's token is no longer valid (compacted, tampered, another
    /// account's): the client reloads, then resumes with this token.
    pub reload: Option<String>,
    /// Live delivery goes on after the position the replay reached.
    pub cursor: FeedCursor,
}

impl ChatService {
    /// Where a stream of `reader`'s changes starts: after `since` (a sync token, or
    /// the id of the last event the client received), replaying up to a page from
    /// the feed; without it, from now.
    pub async fn resume(
        &self,
        reader: &Actor,
        since: Option<&str>,
    ) -> Result<Resumption, DomainError> {
        let page = match since {
            None => self.sync(reader, None, None).await?,
            Some(since) => match self
                .sync(reader, Some(since), Some(Self::SYNC_PAGE.max as i64))
                .await
            {
                Ok(page) => page,
                Err(DomainError::InvalidSyncToken) => {
                    let now = self.sync(reader, None, None).await?;
                    return Ok(Resumption {
                        changes: Vec::new(),
                        limited: None,
                        reload: Some(now.next),
                        cursor: FeedCursor::new(self.clone(), reader.clone(), now.position),
                    });
                }
                Err(other) => return Err(other),
            },
        };
        Ok(Resumption {
            limited: page.limited.then(|| page.next.clone()),
            changes: page.changes,
            reload: None,
            cursor: FeedCursor::new(self.clone(), reader.clone(), page.position),
        })
    }
}
