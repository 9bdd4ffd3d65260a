//! GraphQL subscriptions over WebSocket (graphql-transport-ws, or the older graphql-ws
//! of subscriptions-transport-ws): one task per connection that moves frames between
//! the socket and async-graphql's protocol state machine. Kept to one small task and
//! its buffers, because idle connections are most of a node's memory; it also
//! watches the client's liveness and closes with 1012 when the node stops.

use std::cell::Cell;
use std::rc::Rc;
use std::str::FromStr;
use std::time::{Duration, Instant};

use actix_web::http::header::SEC_WEBSOCKET_PROTOCOL;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use async_graphql::Data;
use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use futures_util::{StreamExt, future};

use super::PortalSchema;
use crate::problem::Problem;
use crate::shutdown::Shutdown;

/// A ping this often tells a live client from a vanished one.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// A client that has sent nothing (not even a pong) for this long is gone.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// Largest message a client may send, continuation frames included.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Upgrades `http` to a WebSocket speaking the GraphQL sub-protocol the client
/// offered, and runs the connection on this worker. `on_init` checks the
/// `connection_init` payload and yields the connection's data.
pub fn start<OnInit, InitFuture>(
    schema: PortalSchema,
    shutdown: Shutdown,
    http: &HttpRequest,
    payload: web::Payload,
    on_init: OnInit,
) -> actix_web::Result<HttpResponse>
where
    OnInit: FnOnce(serde_json::Value) -> InitFuture + Send + 'static,
    InitFuture: Future<Output = async_graphql::Result<Data>> + Send + 'static,
{
    let Some(protocol) = offered_protocol(http) else {
        return Ok(Problem::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "unsupported_subprotocol",
            Some("Sec-WebSocket-Protocol must offer graphql-transport-ws".to_owned()),
        )
        .response());
    };
    let (response, session, messages) =
        actix_ws::handle_with_protocols(http, payload, &[protocol.sec_websocket_protocol()])?;
    let messages = messages
        .max_frame_size(MAX_MESSAGE_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE_BYTES);
    actix_web::rt::spawn(async move {
        // Any frame from the client proves it is there; only text and binary frames
        // carry protocol messages. The stream ends at the client's close frame.
        let last_heard = Rc::new(Cell::new(Instant::now()));
        let heard = last_heard.clone();
        let pong = session.clone();
        let incoming = messages
            .take_while(|message| {
                future::ready(matches!(message, Ok(m) if !matches!(m, AggregatedMessage::Close(_))))
            })
            .filter_map(move |message| {
                heard.set(Instant::now());
                let mut pong = pong.clone();
                async move {
                    match message {
                        Ok(AggregatedMessage::Text(text)) => Some(text.into_bytes()),
                        Ok(AggregatedMessage::Binary(bytes)) => Some(bytes),
                        Ok(AggregatedMessage::Ping(bytes)) => {
                            // A failed pong means the socket is closing; the read side ends too.
                            pong.pong(&bytes).await.ok();
                            None
                        }
                        _ => None,
                    }
                }
            });
        let graphql = WebSocket::new(schema, incoming, protocol).on_connection_init(on_init);
        serve(graphql, session, shutdown, &last_heard).await;
    });
    Ok(response)
}

/// The client's first supported protocol in `Sec-WebSocket-Protocol`.
fn offered_protocol(http: &HttpRequest) -> Option<WebSocketProtocols> {
    http.headers()
        .get(SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|offered| WebSocketProtocols::from_str(offered.trim()).ok())
}

/// Sends what the protocol produces until it or the client ends the connection, the
/// client goes silent, or the node stops.
async fn serve(
    graphql: impl futures_util::Stream<Item = WsMessage>,
    mut session: Session,
    shutdown: Shutdown,
    last_heard: &Cell<Instant>,
) {
    tokio::pin!(graphql);
    let stopping = shutdown.started();
    tokio::pin!(stopping);
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    let close = loop {
        tokio::select! {
            outgoing = graphql.next() => match outgoing {
                Some(WsMessage::Text(text)) => {
                    if session.text(text).await.is_err() {
                        return; // the client is gone
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    break Some(CloseReason { code: code.into(), description: Some(reason) });
                }
                None => break None,
            },
            _ = heartbeat.tick() => {
                if last_heard.get().elapsed() > CLIENT_TIMEOUT {
                    break Some(CloseReason { code: CloseCode::Away, description: Some("no answer to pings".to_owned()) });
                }
                if session.ping(b"").await.is_err() {
                    return;
                }
            }
            () = &mut stopping => {
                break Some(CloseReason {
                    code: CloseCode::Restart,
                    description: Some("server restarting: reconnect".to_owned()),
                });
            }
        }
    };
    // Closing a socket the client already closed fails harmlessly.
    session.close(close).await.ok();
}
