//! Who a WebSocket session speaks for, and until when. `connection_init` must carry
//! `{"Authorization": "Bearer <token>"}`; before the token expires the client may
//! renew it with a graphql-transport-ws `ping` carrying the same payload with a fresh
//! token of the same account (the `pong` then says `{"renewed": true}`). The session
//! loop watches the credentials and closes with 4403 when they end.

use std::sync::Arc;

use async_graphql::Data;
use domain::DomainError;
use domain::accounts::Credentials;
use domain::actor::Door;
use tokio::sync::watch;

use super::super::{Caller, error_of, graphql_error};
use crate::auth::authenticate_fully;
use crate::state::AppState;

/// What the session's credentials are now.
#[derive(Debug, Clone)]
pub(super) enum Authority {
    /// No `connection_init` yet.
    Pending,
    /// The latest valid credentials.
    Granted(Credentials),
    /// `connection_init` or a renewal presented a token that is missing, invalid or
    /// names someone else.
    Refused,
}

/// Shared by the protocol callbacks, which set it, and the session loop, which
/// watches it.
pub(super) type AuthoritySender = Arc<watch::Sender<Authority>>;

pub(super) fn channel() -> (AuthoritySender, watch::Receiver<Authority>) {
    let (sender, receiver) = watch::channel(Authority::Pending);
    (Arc::new(sender), receiver)
}

/// `connection_init`: authenticates its token; the session then counts its user as
/// online until it closes.
pub(super) async fn connection_init(
    state: Arc<AppState>,
    authority: AuthoritySender,
    request_id: String,
    init: serde_json::Value,
) -> async_graphql::Result<Data> {
    let refused = |error: async_graphql::Error| {
        // graphql-transport-ws closes a refused `connection_init` with 4403, which
        // clients answer with a fresh token; the session loop reads this to say so.
        authority.send_replace(Authority::Refused);
        error
    };
    let credentials = match authenticate_fully(
        &state.accounts,
        authorization_in(&init),
        Some(request_id),
        Door::WebSocket,
    )
    .await
    {
        Ok(Some(credentials)) => credentials,
        Ok(None) => {
            return Err(refused(error_of(&DomainError::Unauthenticated(
                "connection_init must carry {\"Authorization\": \"Bearer <token>\"}",
            ))));
        }
        Err(err @ (DomainError::Unauthenticated(_) | DomainError::TotpEnrolmentRequired)) => {
            return Err(refused(graphql_error(err)));
        }
        // The database could not say: not a refusal, the client may retry as is.
        Err(err) => return Err(graphql_error(err)),
    };
    let session = state
        .hub
        .connect(credentials.actor.account_id)
        .await
        .map_err(graphql_error)?;
    let mut data = Data::default();
    data.insert(Arc::new(Caller::Known(credentials.actor.clone())));
    data.insert(session);
    authority.send_replace(Authority::Granted(credentials));
    Ok(data)
}

/// A `ping`: with a token in its payload, a renewal of the session's credentials.
pub(super) async fn ping(
    state: Arc<AppState>,
    authority: AuthoritySender,
    payload: Option<serde_json::Value>,
) -> async_graphql::Result<Option<serde_json::Value>> {
    let Some(authorization) = payload.as_ref().and_then(authorization_in) else {
        return Ok(None);
    };
    let current = match &*authority.borrow() {
        Authority::Granted(current) => current.clone(),
        // Not signed in yet, or already refused: nothing to renew.
        Authority::Pending | Authority::Refused => return Ok(None),
    };
    let request_id = current.actor.request_id.clone();
    let renewed = match authenticate_fully(
        &state.accounts,
        Some(authorization),
        request_id,
        Door::WebSocket,
    )
    .await
    {
        Ok(Some(fresh)) if current.renews(&fresh) => Authority::Granted(fresh),
        Ok(_) | Err(DomainError::Unauthenticated(_) | DomainError::TotpEnrolmentRequired) => {
            Authority::Refused
        }
        // The database could not say: the current credentials stay (they end on
        // their own) and the client may try again.
        Err(_) => return Ok(Some(serde_json::json!({ "renewed": false }))),
    };
    let accepted = matches!(renewed, Authority::Granted(_));
    authority.send_replace(renewed);
    Ok(Some(serde_json::json!({ "renewed": accepted })))
}

/// The `Authorization` a protocol payload carries, under either spelling.
fn authorization_in(payload: &serde_json::Value) -> Option<&str> {
    ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(*key).and_then(|v| v.as_str()))
}
