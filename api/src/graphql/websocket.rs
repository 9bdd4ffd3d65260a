//! GraphQL subscriptions over WebSocket (graphql-transport-ws, or the older graphql-ws
//! of subscriptions-transport-ws) at `/graphql/ws`.
//!
//! Upgrades arrive through actix-http's upgrade hook, not an actix-web route: the
//! connection then leaves the HTTP dispatcher, whose two 8 KiB buffers would otherwise
//! stay allocated for the whole life of every session. Idle sessions are most of a
//! node's memory, so a session here holds its socket and protocol state only, and
//! allocates read and write buffers per message. The loop also watches the client's
//! liveness and closes with 1012 (service restart) when the node stops.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use actix_codec::{Decoder, Encoder, Framed};
use actix_http::body::{BodySize, MessageBody};
use actix_http::h1;
use actix_http::ws::{self, CloseCode, CloseReason, Frame, Item};
use actix_http::{Request, Response};
use actix_web::HttpMessage;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{Bytes, BytesMut};
use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use domain::DomainError;
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::{Caller, PortalSchema, error_of, graphql_error};
use crate::auth::{REQUEST_ID, bearer_credential, request_id_of};
use crate::problem::Problem;
use crate::rate_limit::{self, RateLimit};
use crate::state::AppState;

/// The one path that upgrades.
pub const PATH: &str = "/graphql/ws";
/// A ping this often tells a live client from a vanished one.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// A client that has sent nothing (not even a pong) for this long is gone.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// Largest message a client may send, continuation frames included.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Read granularity; a buffer is only held while a message is being read.
const READ_CHUNK: usize = 1024;

/// What every upgrade on a worker needs.
pub struct Upgrades {
    pub schema: PortalSchema,
    pub state: AppState,
    pub rate_limit: RateLimit,
}

/// Handles an HTTP/1.1 upgrade request: a graphql WebSocket at [`PATH`], else a
/// problem answer. An accepted session continues on a task of its own.
pub async fn upgrade(
    upgrades: Rc<Upgrades>,
    request: Request,
    mut framed: Framed<TcpStream, h1::Codec>,
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
    let state = upgrades.state.clone();
    let on_init = move |init: serde_json::Value| connection_init(state, request_id, init);
    let inbox = Inbox::new();
    let graphql = WebSocket::new(upgrades.schema.clone(), Inbox::stream(&inbox), protocol)
        .on_connection_init(on_init);
    let session = Session::new(parts.io, unread, inbox);
    let shutdown = &upgrades.state.shutdown;
    // A task of its own, so that the HTTP connection (and its dispatcher) ends here;
    // the guard lets shutdown wait until every session has sent its close frame.
    let open = shutdown.session_opened();
    let stopping = shutdown.started();
    actix_web::rt::spawn(async move {
        session.run(graphql, stopping).await;
        drop(open);
    });
    Ok(())
}

/// Answers an upgrade with `problem` (the response a route would give) and closes
/// the connection.
async fn refuse(
    framed: &mut Framed<TcpStream, h1::Codec>,
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
            "not_found",
            Some(format!("only {PATH} accepts an upgrade")),
        )));
    }
    let headers = request.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !origin_allowed(origin, host, &state.allowed_origins) {
            return Err(Box::new(Problem::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
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
            "malformed_upgrade",
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
                "unsupported_subprotocol",
                Some("Sec-WebSocket-Protocol must offer graphql-transport-ws".to_owned()),
            ))
        })
}

/// Whether a browser's WebSocket may open: from this server's own origin (`host`) or a
/// configured one.
fn origin_allowed(origin: &HeaderValue, host: &str, allowed: &[String]) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
    origin_host == host || allowed.iter().any(|a| a.trim_end_matches('/') == origin)
}

/// `connection_init` must carry `{"Authorization": "Bearer <token>"}`; the session
/// then counts its user as online until it closes.
async fn connection_init(
    state: AppState,
    request_id: String,
    init: serde_json::Value,
) -> async_graphql::Result<async_graphql::Data> {
    let token = ["Authorization", "authorization"]
        .iter()
        .find_map(|key| init.get(*key).and_then(|v| v.as_str()))
        .and_then(bearer_credential)
        .ok_or_else(|| {
            error_of(&DomainError::Unauthenticated(
                "connection_init must carry {\"Authorization\": \"Bearer <token>\"}",
            ))
        })?;
    let mut actor = state
        .accounts
        .authenticate(token)
        .await
        .map_err(graphql_error)?;
    actor.request_id = Some(request_id);
    let session = state
        .hub
        .connect(actor.account_id)
        .await
        .map_err(graphql_error)?;
    let mut data = async_graphql::Data::default();
    data.insert(Arc::new(Caller::Known(actor)));
    data.insert(session);
    Ok(data)
}

/// Protocol messages read from the socket, waiting for the GraphQL state machine.
#[derive(Default)]
struct Inbox {
    messages: VecDeque<Bytes>,
    closed: bool,
    waker: Option<Waker>,
}

type SharedInbox = Rc<RefCell<Inbox>>;

impl Inbox {
    fn new() -> SharedInbox {
        Rc::new(RefCell::new(Self::default()))
    }

    fn stream(inbox: &SharedInbox) -> impl futures_util::Stream<Item = Bytes> + use<> {
        let inbox = inbox.clone();
        futures_util::stream::poll_fn(move |cx| {
            let mut inbox = inbox.borrow_mut();
            if let Some(message) = inbox.messages.pop_front() {
                Poll::Ready(Some(message))
            } else if inbox.closed {
                Poll::Ready(None)
            } else {
                inbox.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

/// One upgraded connection.
struct Session {
    io: TcpStream,
    codec: ws::Codec,
    unread: BytesMut,
    /// A message arriving in continuation frames.
    partial: Option<BytesMut>,
    /// A ping's payload, answered on the loop's next turn.
    pong: Option<Bytes>,
    inbox: SharedInbox,
    last_heard: Instant,
}

/// What the loop does next.
enum Turn {
    Readable(io::Result<()>),
    Outgoing(Option<WsMessage>),
    Heartbeat,
    Stopping,
}

/// Ends the session with this close frame (`None`: close without a reason).
type Close = Option<CloseReason>;

impl Session {
    fn new(io: TcpStream, unread: BytesMut, inbox: SharedInbox) -> Self {
        Self {
            io,
            codec: ws::Codec::new().max_size(MAX_MESSAGE_BYTES),
            unread,
            partial: None,
            pong: None,
            inbox,
            last_heard: Instant::now(),
        }
    }

    /// Moves frames between the socket and `graphql` until either side ends, the client
    /// goes silent, or `stopping` completes.
    async fn run(
        mut self,
        graphql: impl futures_util::Stream<Item = WsMessage>,
        stopping: impl Future<Output = ()>,
    ) {
        tokio::pin!(graphql);
        tokio::pin!(stopping);
        let mut heartbeat =
            tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        // Frames that arrived together with the upgrade request.
        let mut close = self.receive();
        while close.is_none() {
            if let Some(ping) = self.pong.take()
                && self.send(ws::Message::Pong(ping)).await.is_err()
            {
                return;
            }
            let turn = tokio::select! {
                readable = self.io.readable() => Turn::Readable(readable),
                outgoing = graphql.next() => Turn::Outgoing(outgoing),
                _ = heartbeat.tick() => Turn::Heartbeat,
                () = &mut stopping => Turn::Stopping,
            };
            close = match turn {
                Turn::Readable(Ok(())) => self.read(),
                Turn::Readable(Err(_)) => return,
                Turn::Outgoing(Some(WsMessage::Text(text))) => {
                    if self.send(ws::Message::Text(text.into())).await.is_err() {
                        return;
                    }
                    None
                }
                Turn::Outgoing(Some(WsMessage::Close(code, reason))) => Some(Some(CloseReason {
                    code: code.into(),
                    description: Some(reason),
                })),
                Turn::Outgoing(None) => Some(None),
                Turn::Heartbeat if self.last_heard.elapsed() > CLIENT_TIMEOUT => {
                    Some(Some(CloseReason {
                        code: CloseCode::Away,
                        description: Some("no answer to pings".to_owned()),
                    }))
                }
                Turn::Heartbeat => {
                    if self.send(ws::Message::Ping(Bytes::new())).await.is_err() {
                        return;
                    }
                    None
                }
                Turn::Stopping => Some(Some(CloseReason {
                    code: CloseCode::Restart,
                    description: Some("server restarting: reconnect".to_owned()),
                })),
            };
        }
        self.inbox.borrow_mut().closed = true;
        if let Some(reason) = close {
            // The client may be gone already; nothing is left to do either way.
            self.send(ws::Message::Close(reason)).await.ok();
        }
        self.io.shutdown().await.ok();
    }

    /// Reads what the socket has, then handles every complete frame.
    fn read(&mut self) -> Option<Close> {
        self.unread.reserve(READ_CHUNK);
        match self.io.try_read_buf(&mut self.unread) {
            Ok(0) => return Some(None),
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return None,
            Err(_) => return Some(None),
        }
        self.receive()
    }

    /// Handles every complete frame among the unread bytes.
    fn receive(&mut self) -> Option<Close> {
        let ended = loop {
            let frame = match self.codec.decode(&mut self.unread) {
                Ok(Some(frame)) => frame,
                Ok(None) => break None,
                Err(ws::ProtocolError::Overflow) => break Some(Some(CloseCode::Size.into())),
                Err(_) => break Some(Some(CloseCode::Protocol.into())),
            };
            self.last_heard = Instant::now();
            if let Some(close) = self.frame(frame) {
                break Some(close);
            }
        };
        if self.unread.is_empty() {
            // An idle session holds no read buffer.
            self.unread = BytesMut::new();
        }
        ended
    }

    /// One frame: complete messages go to the inbox, a ping is answered next turn.
    fn frame(&mut self, frame: Frame) -> Option<Close> {
        match frame {
            Frame::Text(message) | Frame::Binary(message) if self.partial.is_none() => {
                self.deliver(message);
            }
            Frame::Continuation(Item::FirstText(first) | Item::FirstBinary(first))
                if self.partial.is_none() =>
            {
                self.partial = Some(BytesMut::from(&first[..]));
            }
            Frame::Continuation(Item::Continue(more)) if self.partial.is_some() => {
                return self.extend_partial(&more, false);
            }
            Frame::Continuation(Item::Last(last)) if self.partial.is_some() => {
                return self.extend_partial(&last, true);
            }
            Frame::Ping(payload) => self.pong = Some(payload),
            Frame::Pong(_) => {}
            Frame::Close(reason) => return Some(reason),
            // Interleaved or unexpected continuation frames.
            _ => return Some(Some(CloseCode::Protocol.into())),
        }
        None
    }

    fn extend_partial(&mut self, bytes: &[u8], last: bool) -> Option<Close> {
        let partial = self.partial.get_or_insert_with(BytesMut::new);
        partial.extend_from_slice(bytes);
        if partial.len() > MAX_MESSAGE_BYTES {
            return Some(Some(CloseCode::Size.into()));
        }
        if last && let Some(message) = self.partial.take() {
            self.deliver(message.freeze());
        }
        None
    }

    /// Hands a complete message to the GraphQL state machine.
    fn deliver(&self, message: Bytes) {
        let mut inbox = self.inbox.borrow_mut();
        inbox.messages.push_back(message);
        if let Some(waker) = inbox.waker.take() {
            waker.wake();
        }
    }

    /// Encodes and writes one message; the write buffer lives only meanwhile.
    async fn send(&mut self, message: ws::Message) -> io::Result<()> {
        let mut out = BytesMut::new();
        self.codec
            .encode(message, &mut out)
            .map_err(|err| io::Error::other(err.to_string()))?;
        self.io.write_all(&out).await
    }
}
