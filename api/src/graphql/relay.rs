//! Relay's global object identification: opaque `ID`s that name their type, and the
//! `node(id)` root field that refetches any object by one.

use async_graphql::{Context, ID, Interface, Object, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::{actor, graphql_error, invalid_argument};
use crate::state::AppState;
use crate::views;

/// An object that can be refetched by its global `id`.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    method = "global_id",
    ty = "&ID",
    desc = "Globally unique, opaque id"
))]
pub enum Node {
    Therapist(views::Therapist),
}

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

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; null when it does not exist.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let Some((kind, key)) = parse_global_id(&id) else {
            return Err(invalid_argument("id", "not a global id"));
        };
        let state = ctx.data::<AppState>()?;
        match kind.as_str() {
            "Therapist" => match state.directory.get(actor(ctx)?, key).await {
                Ok(therapist) => Ok(Some(Node::Therapist(therapist.into()))),
                Err(domain::DomainError::NotFound { .. }) => Ok(None),
                Err(err) => Err(graphql_error(err)),
            },
            _ => Ok(None),
        }
    }
}
