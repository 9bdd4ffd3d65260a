//! One upgraded connection: frames between the socket and the GraphQL state machine,
//! the client's liveness, the session's credentials and the node's shutdown.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{self, CloseCode, CloseReason, Frame, Item};
use actix_web::web::{Bytes, BytesMut};
use async_graphql::http::WsMessage;
use domain::accounts::{AccountService, SessionEnd};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::credentials::Authority;

/// A ping this often tells a live client from a vanished one.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// A client that has sent nothing (not even a pong) for this long is gone.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// Largest message a client may send, continuation frames included.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Read granularity; a buffer is only held while a message is being read.
const READ_CHUNK: usize = 1024;
/// The close code of a session whose credentials were refused or ended
/// (graphql-transport-ws: Forbidden).
const CREDENTIALS_ENDED: u16 = 4403;

/// Protocol messages read from the socket, waiting for the GraphQL state machine.
#[derive(Default)]
pub(super) struct Inbox {
    messages: VecDeque<Bytes>,
    closed: bool,
    waker: Option<Waker>,
}

pub(super) type SharedInbox = Rc<RefCell<Inbox>>;

impl Inbox {
    pub(super) fn new() -> SharedInbox {
        Rc::new(RefCell::new(Self::default()))
    }

    pub(super) fn stream(inbox: &SharedInbox) -> impl futures_util::Stream<Item = Bytes> + use<> {
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
pub(super) struct Session {
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
    Credentials(Option<Authority>),
    CredentialsEnded(SessionEnd),
}

/// Ends the session with this close frame (`None`: close without a reason).
type Close = Option<CloseReason>;

impl Session {
    pub(super) fn new(io: TcpStream, unread: BytesMut, inbox: SharedInbox) -> Self {
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
    /// goes silent, the credentials watched through `authority` end, or `stopping`
    /// completes. Once the credentials end nothing more is sent but the close frame.
    pub(super) async fn run(
        mut self,
        graphql: impl futures_util::Stream<Item = WsMessage>,
        (accounts, mut authority): (AccountService, watch::Receiver<Authority>),
        stopping: impl Future<Output = ()>,
    ) {
        tokio::pin!(graphql);
        tokio::pin!(stopping);
        let mut credentials_end: Pin<Box<dyn Future<Output = SessionEnd>>> =
            Box::pin(std::future::pending());
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
                // Credentials first: nothing may go out once they have ended.
                biased;
                end = &mut credentials_end => Turn::CredentialsEnded(end),
                changed = authority.changed() => {
                    Turn::Credentials(changed.ok().map(|()| authority.borrow_and_update().clone()))
                }
                () = &mut stopping => Turn::Stopping,
                readable = self.io.readable() => Turn::Readable(readable),
                outgoing = graphql.next() => Turn::Outgoing(outgoing),
                _ = heartbeat.tick() => Turn::Heartbeat,
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
                Turn::Outgoing(Some(WsMessage::Close(code, reason))) => {
                    // async-graphql closes a refused `connection_init` with 1002; the
                    // protocol says 4403 (Forbidden), which clients retry with a new token.
                    let code = match *authority.borrow() {
                        Authority::Refused => CREDENTIALS_ENDED,
                        _ => code,
                    };
                    Some(Some(CloseReason {
                        code: code.into(),
                        description: Some(reason),
                    }))
                }
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
                Turn::Credentials(Some(Authority::Granted(credentials))) => {
                    credentials_end = Box::pin(accounts.session_end(&credentials));
                    None
                }
                Turn::Credentials(Some(Authority::Pending)) => None,
                Turn::Credentials(Some(Authority::Refused)) => Some(Some(credentials_ended(
                    "the renewal token was refused: sign in again",
                ))),
                // The protocol state machine is gone: so is the session.
                Turn::Credentials(None) => Some(None),
                Turn::CredentialsEnded(SessionEnd::Expired) => Some(Some(credentials_ended(
                    "the token expired: reconnect with a fresh one",
                ))),
                Turn::CredentialsEnded(SessionEnd::Revoked) => {
                    Some(Some(credentials_ended("the sign-in ended: sign in again")))
                }
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
            // Readiness can be stale; `receive` then frees the buffer just reserved,
            // which an idle session would otherwise keep.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
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

fn credentials_ended(why: &str) -> CloseReason {
    CloseReason {
        code: CloseCode::Other(CREDENTIALS_ENDED),
        description: Some(why.to_owned()),
    }
}
