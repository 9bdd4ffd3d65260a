//! Real time: GraphQL subscriptions over WebSocket, the SSE stream, presence that
//! reaches contacts only and costs no database work, slow subscribers, two nodes.

mod hub;
mod presence;
mod resume;
mod streams;
mod typing;

use std::time::Duration;

use domain::actor::Role;
use domain::events::{Delivery, Event, Hub, InProcessBus, Status};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

use domain::database::Storage;

use crate::helpers::{Backend, TestAccount, TestApp, TestDatabase};
use crate::process::PortalProcess;

const WAIT: Duration = Duration::from_secs(10);

/// A Server-Sent-Events client.
pub(crate) struct Sse {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

/// One event of the stream.
struct SseEvent {
    name: String,
    data: Value,
    id: Option<String>,
    retry: Option<u64>,
}

impl Sse {
    pub(crate) async fn open(address: &str, token: &str, last_event_id: Option<&str>) -> Self {
        let mut request = reqwest::Client::new()
            .get(format!("{address}/v1/events"))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.expect("the stream opens");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next event, or `None` when `within` passes first or the stream ends.
    async fn next_event(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let (mut name, mut data, mut id, mut retry) = (None, None, None, None);
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str(v).expect("JSON data"));
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("retry: ") {
                        retry = Some(v.parse().expect("retry is a number of milliseconds"));
                    }
                }
                if let Some(name) = name {
                    let data = data.unwrap_or(Value::Null);
                    return Some(SseEvent {
                        name,
                        data,
                        id,
                        retry,
                    });
                }
                continue; // a keepalive comment
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??;
            self.buffer
                .push_str(std::str::from_utf8(&chunk.ok()?).expect("UTF-8"));
        }
    }

    /// The next event (name, data, id), or `None` when `within` passes first.
    pub(crate) async fn next(
        &mut self,
        within: Duration,
    ) -> Option<(String, Value, Option<String>)> {
        let event = self.next_event(within).await?;
        Some((event.name, event.data, event.id))
    }

    /// The next event named `name`, skipping others.
    pub(crate) async fn next_named(&mut self, name: &str) -> (Value, Option<String>) {
        let (data, id, _) = self.next_named_with_retry(name).await;
        (data, id)
    }

    async fn next_named_with_retry(&mut self, name: &str) -> (Value, Option<String>, Option<u64>) {
        loop {
            let event = self
                .next_event(WAIT)
                .await
                .unwrap_or_else(|| panic!("no {name} event"));
            if event.name == name {
                return (event.data, event.id, event.retry);
            }
        }
    }

    /// The next event named `name` and the `retry:` delay sent with it.
    pub(crate) async fn next_with_retry(&mut self, name: &str) -> (Value, Option<u64>) {
        let (data, _, retry) = self.next_named_with_retry(name).await;
        (data, retry)
    }

    /// Whether the stream is still open after `within` (what arrives meanwhile is kept).
    pub(crate) async fn still_open(&mut self, within: Duration) -> bool {
        let read = tokio::time::timeout(within, async {
            while let Some(Ok(chunk)) = self.body.next().await {
                self.buffer
                    .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
            }
        });
        read.await.is_err()
    }

    /// Whether the server ends the stream (rather than `WAIT` passing first).
    pub(crate) async fn ended(&mut self) -> bool {
        matches!(
            tokio::time::timeout(WAIT, async {
                while let Some(Ok(_)) = self.body.next().await {}
            })
            .await,
            Ok(())
        )
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws client.
pub(crate) async fn ws_connect(address: &str) -> Socket {
    let url = format!("{}/graphql/ws", address.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("a request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("a header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("the upgrade succeeds")
        .0
}

pub(crate) async fn ws_send(socket: &mut Socket, message: Value) {
    socket
        .send(WsMessage::text(message.to_string()))
        .await
        .expect("sent");
}

/// The next JSON message, or the close frame's code as `{"close": code}`.
pub(crate) async fn ws_next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a message in time");
        match message {
            Some(Ok(WsMessage::Text(text))) => return serde_json::from_str(&text).expect("JSON"),
            Some(Ok(WsMessage::Close(frame))) => {
                return json!({ "close": frame.map(|f| u16::from(f.code)) });
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return json!({ "close": null }),
        }
    }
}

pub(crate) async fn ws_signed_in(address: &str, token: &str) -> Socket {
    let mut socket = ws_connect(address).await;
    ws_send(&mut socket, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })).await;
    assert_eq!(ws_next(&mut socket).await["type"], "connection_ack");
    socket
}

pub(crate) struct Chat {
    pub(crate) therapist: TestAccount,
    pub(crate) therapist_token: String,
    pub(crate) client: TestAccount,
    pub(crate) client_token: String,
    pub(crate) conversation: String,
}

pub(crate) async fn chat(app: &TestApp) -> Chat {
    let therapist = app.create_account(Role::Therapist).await;
    let client = app.create_account(Role::Client).await;
    let therapist_token = app.login(&therapist).await;
    let response = app
        .post_json(
            "/v1/conversations",
            &json!({ "member_ids": [client.id] }),
            Some(&therapist_token),
        )
        .await;
    assert_eq!(response.status(), 201);
    let conversation = response.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    Chat {
        client_token: app.login(&client).await,
        therapist_token,
        therapist,
        client,
        conversation,
    }
}
