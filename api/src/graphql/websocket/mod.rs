//! GraphQL subscriptions over WebSocket (graphql-transport-ws, or the older graphql-ws
//! of subscriptions-transport-ws) at `/graphql/ws`.
//!
//! Upgrades arrive through actix-http's upgrade hook, not an actix-web route: the
//! connection then leaves the HTTP dispatcher, whose two 8 KiB buffers would otherwise
//! stay allocated for the whole life of every session. Idle sessions are most of a
//! node's memory, so a session here holds its socket and protocol state only, and
//! allocates read and write buffers per message (`session`). The loop also watches
//! the client's liveness, the session's credentials (`credentials`: it closes with
//! 4403 when they end) and closes with 1012 (service restart) when the node stops.

mod credentials;
mod session;

use std::rc::Rc;
use std::str::FromStr;
use std::sync::Arc;

use actix_codec::Framed;
use actix_http::body::{BodySize, MessageBody};
use actix_http::h1;
use actix_http::ws;
use actix_http::{Request, Response};
use actix_web::HttpMessage;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::BytesMut;
use async_graphql::http::{WebSocket, WebSocketProtocols};
use futures_util::SinkExt;

use super::PortalSchema;
use crate::auth::{REQUEST_ID, request_id_of};
use crate::codes;
use crate::drain::DrainingStream;
use crate::problem::Problem;
use crate::rate_limit::{self, RateLimit};
use crate::state::AppState;
use session::{Inbox, Session};

/// The one path that upgrades.
pub const PATH: &str = "/graphql/ws";

/// What every upgrade on a worker needs.
pub struct Upgrades {
    pub schema: PortalSchema,
    /// Shared, not copied, by the protocol callbacks every session holds.
    pub state: Arc<AppState>,
    pub rate_limit: RateLimit,
}

/// Handles an HTTP/1.1 upgrade request: a graphql WebSocket at [`PATH`], else a
/// problem answer. An accepted session continues on a task of its own.
pub async fn upgrade(
    upgrades: Rc<Upgrades>,
    request: Request,
    mut framed: Framed<DrainingStream, h1::Codec>,
) -> Result<(), actix_web::Error> {
    let request_id = request_id_of(request.headers());
    // Upgrades skip the app's middleware, so the per-client limit is applied here.
    let over_quota = request
        .peer_addr()
        .and_then(|peer| upgrades.rate_limit.check(peer.ip()).err());
    let accepted = match over_quota {
        Some(wait) => Err(Box::new(rate_limit::over_quota(wait))),
        None => accept(&upgrades.state, &request),
    };
    let protocol = match accepted {
        Ok(protocol) => protocol,
        Err(problem) => {
            tracing::info!(request_id = %request_id, status = problem.status, code = %problem.code, "websocket upgrade refused");
            return refuse(&mut framed, &problem, &request_id).await;
        }
    };
    let mut response = ws::handshake_response(request.head()).finish().drop_body();
    // Pooled request heads are large; this one is not needed any more.
    drop(request);
    let headers = response.headers_mut();
    headers.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(protocol.sec_websocket_protocol()),
    );
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, id);
    }
    framed
        .send(h1::Message::Item((response, BodySize::None)))
        .await?;
    tracing::info!(request_id = %request_id, "websocket session opened");
    let parts = framed.into_parts();
    // Only bytes the client already sent are kept, not the dispatcher's buffers.
    let unread = BytesMut::from(&parts.read_buf[..]);
    let (authority, watched) = credentials::channel();
    let (state, init_authority) = (upgrades.state.clone(), authority.clone());
    let on_init = move |init: serde_json::Value| {
        credentials::connection_init(state, init_authority, request_id, init)
    };
    let state = upgrades.state.clone();
    let on_ping = move |_: Option<&async_graphql::Data>, payload: Option<serde_json::Value>| {
        credentials::ping(state, authority, payload)
    };
    let inbox = Inbox::new();
    // Boxed: held inline, the protocol state machine (4.5 KiB) was copied into the
    // session future and again into the task, which made an idle session 33 KiB.
    let graphql = Box::pin(
        WebSocket::new(upgrades.schema.clone(), Inbox::stream(&inbox), protocol)
            .on_connection_init(on_init)
            .on_ping(on_ping),
    );
    let session = Session::new(parts.io.into_inner(), unread, inbox);
    let accounts = upgrades.state.accounts.clone();
    let shutdown = &upgrades.state.shutdown;
    // A task of its own, so that the HTTP connection (and its dispatcher) ends here;
    // the guard lets shutdown wait until every session has sent its close frame.
    let open = shutdown.session_opened();
    let stopping = shutdown.started();
    actix_web::rt::spawn(async move {
        session.run(graphql, (accounts, watched), stopping).await;
        drop(open);
    });
    Ok(())
}

/// Answers an upgrade with `problem` (the response a route would give) and closes
/// the connection.
async fn refuse(
    framed: &mut Framed<DrainingStream, h1::Codec>,
    problem: &Problem,
    request_id: &str,
) -> Result<(), actix_web::Error> {
    let (mut head, body) = Response::from(problem.response()).into_parts();
    let headers = head.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, id);
    }
    let body = body.try_into_bytes().unwrap_or_default();
    let length = BodySize::Sized(body.len() as u64);
    framed.feed(h1::Message::Item((head, length))).await?;
    framed.send(h1::Message::Chunk(Some(body))).await?;
    Ok(())
}

/// The sub-protocol to speak, or why the upgrade is refused. Browsers may connect only
/// from this server's own origin or a configured one; other clients send no `Origin`.
fn accept(state: &AppState, request: &Request) -> Result<WebSocketProtocols, Box<Problem>> {
    let path = request.path().trim_end_matches('/');
    if path != PATH {
        return Err(Box::new(Problem::new(
            StatusCode::NOT_FOUND,
            codes::NOT_FOUND,
            Some(format!("only {PATH} accepts an upgrade")),
        )));
    }
    let headers = request.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        if !crate::cors::origin_allowed(origin, host, &state.allowed_origins) {
            return Err(Box::new(Problem::new(
                StatusCode::FORBIDDEN,
                codes::ORIGIN_NOT_ALLOWED,
                Some("this origin may not open a WebSocket here".to_owned()),
            )));
        }
    }
    let is_websocket = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !is_websocket || ws::verify_handshake(request.head()).is_err() {
        return Err(Box::new(Problem::new(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_UPGRADE,
            Some("a WebSocket upgrade (version 13) is expected here".to_owned()),
        )));
    }
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
        })
        .ok_or_else(|| {
            Box::new(Problem::new(
                StatusCode::BAD_REQUEST,
                codes::UNSUPPORTED_SUBPROTOCOL,
                Some("Sec-WebSocket-Protocol must offer graphql-transport-ws".to_owned()),
            ))
        })
}
