//! Relay's global object identification: opaque `ID`s that name their type, and the
//! `node(id)` root field that refetches any object by one, under the same rules as
//! the field that first gave it (members only for chat, staff for other accounts,
//! admins for the audit log).

use async_graphql::{Context, ID, Interface, Object, Result};
use domain::DomainError;

use super::global_id::{GlobalKey, parse_global_id};
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
    Conversation(views::Conversation),
    Message(views::Message),
    Account(views::Account),
    AuditEntry(views::AuditEntry),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id. One that does not exist, or that the caller may
    /// not see, is null with a `not_found` error (the two are not told apart).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let Some(key) = parse_global_id(&id) else {
            return Err(invalid_argument("id", "not a global id"));
        };
        let state = ctx.data::<AppState>()?;
        let actor = actor(ctx)?;
        let found = match key {
            GlobalKey::Message { conversation, seq } => state
                .chat
                .message(actor, conversation, seq)
                .await
                .map(|message| Node::Message(message.into())),
            GlobalKey::Object(kind, key) => match kind.as_str() {
                "Therapist" => state
                    .directory
                    .get(actor, key)
                    .await
                    .map(|therapist| Node::Therapist(therapist.into())),
                "Conversation" => state
                    .chat
                    .get(actor, key)
                    .await
                    .map(|conversation| Node::Conversation(conversation.into())),
                "Account" => state
                    .accounts
                    .account(actor, key)
                    .await
                    .map(|account| Node::Account(account.into())),
                "AuditEntry" => state
                    .audit
                    .get(actor, key)
                    .await
                    .map(|entry| Node::AuditEntry(entry.into())),
                _ => Err(DomainError::NotFound { entity: "node" }),
            },
        };
        match found {
            Ok(node) => Ok(Some(node)),
            Err(DomainError::NotFound { .. } | DomainError::Forbidden { .. }) => {
                Err(graphql_error(DomainError::NotFound { entity: "node" }))
            }
            Err(err) => Err(graphql_error(err)),
        }
    }
}
