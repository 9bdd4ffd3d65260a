//! What chat reads tell the access log: a conversation holds the data of its client
//! members, so reading it (history, sync, replays, its list row or metadata) is a
//! read of theirs: for care by a member, for support by staff.

use uuid::Uuid;

use super::ChatService;
use crate::DomainError;
use crate::access_log::{Purpose, Read, Resource};
use crate::actor::Actor;

impl ChatService {
    /// Logs that `actor` read conversations `ids` for `purpose`; an error means the
    /// data must not be answered.
    pub(super) async fn log_reads(
        &self,
        actor: &Actor,
        ids: impl IntoIterator<Item = Uuid>,
        purpose: Purpose,
    ) -> Result<(), DomainError> {
        let mut reads = Vec::new();
        for id in ids {
            let clients = self.members.clients_of(&self.db, id).await?;
            reads.extend(clients.iter().map(|client| Read {
                client: *client,
                resource: Resource::Conversation(id),
                purpose,
            }));
        }
        self.access_log.record(actor, reads).await
    }
}
