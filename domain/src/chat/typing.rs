//! Typing indicators: ephemeral, never stored. A member says they are typing or have
//! stopped; the other members hear it, at most once a second per typist, and a
//! `true` lapses by itself after `TYPING_LASTS` unless it is renewed. A
//! conversation's members come from the member cache, so a typing event costs no
//! database statement once they have been read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

use super::ChatService;
use crate::DomainError;
use crate::actor::Actor;
use crate::events::Event;

/// How long a `typing: true` holds unless renewed.
pub const TYPING_LASTS: Duration = Duration::from_secs(6);
/// The least time between two `true`s of one typist that are passed on.
const AT_MOST_EVERY: Duration = Duration::from_secs(1);
/// Who is typing where.
#[derive(Debug, Default)]
pub(crate) struct TypingBoard {
    typists: Mutex<HashMap<(Uuid, Uuid), Typist>>,
}

#[derive(Debug, Clone, Copy)]
struct Typist {
    /// When the last `true` was passed on.
    told_at: Instant,
    /// Which `true` this is: a lapse only ends the one it was set for.
    renewal: u64,
}

impl TypingBoard {
    /// Notes that `typist` types (or stopped) in `conversation`; whether to tell the
    /// others now, and the renewal a `true` is, for its lapse.
    fn note(&self, conversation: Uuid, typist: Uuid, typing: bool) -> (bool, u64) {
        let mut typists = self.typists.lock().unwrap_or_else(|p| p.into_inner());
        let key = (conversation, typist);
        let now = Instant::now();
        match (typing, typists.get_mut(&key)) {
            (true, Some(known)) => {
                known.renewal += 1;
                let tell = now.duration_since(known.told_at) >= AT_MOST_EVERY;
                if tell {
                    known.told_at = now;
                }
                (tell, known.renewal)
            }
            (true, None) => {
                typists.insert(
                    key,
                    Typist {
                        told_at: now,
                        renewal: 0,
                    },
                );
                (true, 0)
            }
            // Stopping is told at once, and only by someone who was typing.
            (false, known) => (known.is_some() && typists.remove(&key).is_some(), 0),
        }
    }

    /// Ends `typist`'s `true` number `renewal` if no later one renewed it.
    fn lapse(&self, conversation: Uuid, typist: Uuid, renewal: u64) -> bool {
        let mut typists = self.typists.lock().unwrap_or_else(|p| p.into_inner());
        let key = (conversation, typist);
        let current = typists.get(&key).is_some_and(|t| t.renewal == renewal);
        if current {
            typists.remove(&key);
        }
        current
    }
}

impl ChatService {
    /// Tells the other members of conversation `id` that the caller is typing (or
    /// stopped). Members only; a `true` lapses after [`TYPING_LASTS`] unless renewed.
    pub async fn set_typing(
        &self,
        actor: &Actor,
        id: Uuid,
        typing: bool,
    ) -> Result<(), DomainError> {
        let members = self.members.of(&self.db, id).await?;
        if !members.contains(&actor.account_id) {
            return Err(DomainError::NotFound {
                entity: "conversation",
            });
        }
        let others: Vec<Uuid> = members
            .iter()
            .copied()
            .filter(|m| *m != actor.account_id)
            .collect();
        let typist = actor.account_id;
        let (tell, renewal) = self.typing.note(id, typist, typing);
        if tell {
            let event = Event::Typing {
                conversation_id: id,
                account_id: typist,
                typing,
            };
            self.hub.publish(others.clone(), event).await;
        }
        if typing {
            let (board, hub) = (self.typing.clone(), self.hub.clone());
            tokio::spawn(async move {
                tokio::time::sleep(TYPING_LASTS).await;
                if board.lapse(id, typist, renewal) {
                    let event = Event::Typing {
                        conversation_id: id,
                        account_id: typist,
                        typing: false,
                    };
                    hub.publish(others, event).await;
                }
            });
        }
        Ok(())
    }
}
