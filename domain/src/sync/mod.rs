//! The change feed: every change a member must learn about (a message created,
//! edited or deleted; a read marker moved; a conversation started with them; their
//! mute switch), recorded per account in the change's own transaction and given its
//! position in the account's feed right after the commit, by the sequencer. A client
//! that was away asks for what follows the last position it saw; reading costs what
//! the changes cost, not what the history holds.

mod compact;
mod entity;
mod record;
mod sequence;
mod sequencer;

pub use compact::{compact, compact_every};

pub use entity::{feed, head, pending};
pub use record::Positions;
pub(crate) use record::{Entry, Recorded, record};
pub use sequencer::{Sequencer, sweep_every};

use uuid::Uuid;

use crate::DomainError;
use crate::cursor::{CursorKey, scope};

/// Where a reader is in its feed, sealed so that only that account can use it.
pub(crate) fn seal(key: &CursorKey, account_id: Uuid, position: i64) -> String {
    key.seal(&token_scope(account_id), &position)
}

/// The position a token holds, if it was sealed for `account_id`.
pub(crate) fn open(key: &CursorKey, account_id: Uuid, token: &str) -> Result<i64, DomainError> {
    key.open::<i64>(&token_scope(account_id), "since", token)
        .map_err(|_| DomainError::InvalidSyncToken)
}

fn token_scope(account_id: Uuid) -> String {
    scope(&[Some("sync"), Some(&account_id.to_string())])
}
