//! Relay global ids: opaque `ID`s that name their type and primary key. A leaf, so
//! that the views and the `node` resolver can both use it. A key is a UUID, or for a
//! message `<conversation>:<seq>`.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

/// The global id of the `kind` object with primary key `id`.
pub fn global_id(kind: &str, id: Uuid) -> ID {
    encode(kind, &id.to_string())
}

/// The global id of message `seq` of conversation `conversation`.
pub fn message_global_id(conversation: Uuid, seq: i64) -> ID {
    encode("Message", &format!("{conversation}:{seq}"))
}

fn encode(kind: &str, key: &str) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{kind}:{key}")))
}

/// What a global id names.
#[derive(Debug, PartialEq, Eq)]
pub enum GlobalKey {
    /// An object with a UUID key, and its type name.
    Object(String, Uuid),
    Message {
        conversation: Uuid,
        seq: i64,
    },
}

/// What `id` names; `None` when it is not a global id of this API.
pub fn parse_global_id(id: &ID) -> Option<GlobalKey> {
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, key) = text.split_once(':')?;
    if kind == "Message" {
        let (conversation, seq) = key.split_once(':')?;
        return Some(GlobalKey::Message {
            conversation: conversation.parse().ok()?,
            seq: seq.parse().ok()?,
        });
    }
    Some(GlobalKey::Object(kind.to_owned(), key.parse().ok()?))
}
