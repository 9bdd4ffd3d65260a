//! Relay's global object identification: opaque `ID`s that name their type, and the
//! `node(id)` root field that refetches any object by one.

use async_graphql::{Context, ID, Interface, Object, Result};

use super::global_id::parse_global_id;
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
