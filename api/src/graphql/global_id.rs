//! Relay global ids: opaque `ID`s that name their type and primary key. A leaf, so
//! that the views and the `node` resolver can both use it.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

/// The global id of the `kind` object with primary key `id`.
pub fn global_id(kind: &str, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{kind}:{id}")))
}

/// The type name and primary key inside a global id.
pub fn parse_global_id(id: &ID) -> Option<(String, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, key) = text.split_once(':')?;
    Some((kind.to_owned(), key.parse().ok()?))
}
