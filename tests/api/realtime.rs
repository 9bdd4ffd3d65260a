//! Real time: GraphQL subscriptions over WebSocket, the SSE stream, presence that
//! reaches contacts only and costs no database work, slow subscribers, two nodes.

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

async fn websocket_and_sse_refuse_missing_or_bad_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for payload in [
        json!({}),
        json!({ "Authorization": "Bearer forged" }),
        json!({ "Authorization": "Basic abc" }),
    ] {
        let mut socket = ws_connect(&app.address).await;
        ws_send(
            &mut socket,
            json!({ "type": "connection_init", "payload": payload }),
        )
        .await;
        let answer = ws_next(&mut socket).await;
        assert!(
            answer.get("close").is_some(),
            "refused, not acknowledged: {answer}"
        );
    }
    let response = app.get_as("/v1/events", None).await;
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(app.get_as("/v1/events", Some("forged")).await.status(), 401);

    let foreign = app
        .http
        .get(format!("{}/graphql/ws", app.address))
        .header("origin", "https://evil.example")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .send()
        .await
        .expect("answered");
    assert_eq!(
        foreign.status(),
        403,
        "a foreign origin cannot open a WebSocket"
    );
}
on_every_backend!(websocket_and_sse_refuse_missing_or_bad_tokens);

async fn message_events_reach_members_in_seq_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;

    let mut outsider = ws_signed_in(&app.address, &app.token).await;
    ws_send(
        &mut outsider,
        json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: UUID!) { messageEvents(conversationId: $id) { kind seq } }",
        "variables": { "id": chat.conversation } } }),
    )
    .await;
    let refused = ws_next(&mut outsider).await;
    // async-graphql reports a resolver error of a subscription as a `next` with errors.
    let errors = match refused["type"].as_str() {
        Some("error") => refused["payload"].clone(),
        _ => refused["payload"]["errors"].clone(),
    };
    assert_eq!(errors[0]["extensions"]["code"], "not_found", "{refused}");

    let mut socket = ws_signed_in(&app.address, &chat.client_token).await;
    ws_send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: UUID!) { messageEvents(conversationId: $id) { kind seq message { body } } }",
        "variables": { "id": chat.conversation } } })).await;
    // The subscription is registered once the server has processed `subscribe`;
    // a ping round trip after it proves that.
    ws_send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(ws_next(&mut socket).await["type"], "pong");

    let senders: Vec<_> = (0..4)
        .map(|n| {
            let (http, address, id, token) = (
                app.http.clone(),
                app.address.clone(),
                chat.conversation.clone(),
                chat.therapist_token.clone(),
            );
            tokio::spawn(async move {
                for i in 0..5 {
                    let response = http
                        .post(format!("{address}/v1/conversations/{id}/messages"))
                        .bearer_auth(&token)
                        .json(&json!({ "body": format!("m{n}-{i}"), "client_msg_id": format!("{n}-{i}") }))
                        .send()
                        .await
                        .expect("answered");
                    assert_eq!(response.status(), 201);
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.expect("a sender");
    }
    let mut seqs = Vec::new();
    while seqs.len() < 20 {
        let message = ws_next(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(
            message["payload"]["data"]["messageEvents"]["kind"],
            "CREATED"
        );
        seqs.push(
            message["payload"]["data"]["messageEvents"]["seq"]
                .as_i64()
                .expect("a seq"),
        );
    }
    assert_eq!(
        seqs,
        (1..=20).collect::<Vec<_>>(),
        "in seq order, none missing"
    );
}
on_every_backend!(message_events_reach_members_in_seq_order);

async fn presence_reaches_contacts_only_and_costs_no_statements(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let stranger = app.create_account(Role::Client).await;
    let stranger_token = app.login(&stranger).await;

    let mut client_stream = Sse::open(&app.address, &chat.client_token, None).await;
    let mut stranger_stream = Sse::open(&app.address, &stranger_token, None).await;
    // The therapist comes online (a WebSocket session): the client sees it.
    let mut therapist_socket = ws_signed_in(&app.address, &chat.therapist_token).await;
    let (online, _) = client_stream.next_named("presence").await;
    assert_eq!(
        online,
        json!({ "account_id": chat.therapist.id, "status": "online" })
    );
    // The therapist saw the client come online too (the client's stream opened first).
    let presence: Value = app
        .get_as(
            &format!("/v1/presence?ids={},{}", chat.client.id, stranger.id),
            Some(&chat.therapist_token),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        presence,
        json!({ "items": [{ "account_id": chat.client.id, "status": "online" }] }),
        "non-contacts are absent"
    );

    // Wait out the coalescing window of the automatic "online", then change.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    app.get_as("/v1/me", Some(&chat.therapist_token)).await; // refresh the cached account status
    let before = app.statements.total();
    let response = app
        .http
        .put(format!("{}/v1/presence", app.address))
        .bearer_auth(&chat.therapist_token)
        .json(&json!({ "status": "busy" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let (busy, _) = client_stream.next_named("presence").await;
    assert_eq!(
        busy,
        json!({ "account_id": chat.therapist.id, "status": "busy" })
    );
    assert_eq!(
        app.statements.total() - before,
        0,
        "a presence change issues no statement"
    );

    // The stranger shares no conversation with the therapist and hears nothing.
    while let Some((name, data, _)) = stranger_stream.next(Duration::from_millis(1_500)).await {
        assert!(
            !(name == "presence" && data["account_id"] == json!(chat.therapist.id)),
            "a non-contact received {data}"
        );
    }

    // Flaps within a second are coalesced: away, busy, away -> one change to away.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    for status in ["away", "online", "away"] {
        app.http
            .put(format!("{}/v1/presence", app.address))
            .bearer_auth(&chat.therapist_token)
            .json(&json!({ "status": status }))
            .send()
            .await
            .expect("answered");
    }
    let mut seen = Vec::new();
    while let Some((name, data, _)) = client_stream.next(Duration::from_millis(2_500)).await {
        if name == "presence" {
            seen.push(data["status"].clone());
        }
    }
    assert_eq!(seen.first(), Some(&json!("away")));
    assert_eq!(seen.last(), Some(&json!("away")));
    assert!(seen.len() <= 2, "flaps coalesced: {seen:?}");

    // The last session closing takes the therapist offline after the grace period.
    therapist_socket.close(None).await.expect("closed");
    let (offline, _) = client_stream.next_named("presence").await;
    assert_eq!(
        offline,
        json!({ "account_id": chat.therapist.id, "status": "offline" })
    );
}
on_every_backend!(presence_reaches_contacts_only_and_costs_no_statements);

async fn the_event_stream_resumes_from_last_event_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let send = |key: &'static str| {
        let app = &app;
        let chat = &chat;
        async move {
            let response = app
                .post_json(
                    &format!("/v1/conversations/{}/messages", chat.conversation),
                    &json!({ "body": key, "client_msg_id": key }),
                    Some(&chat.therapist_token),
                )
                .await;
            assert_eq!(response.status(), 201);
        }
    };

    let mut stream = Sse::open(&app.address, &chat.client_token, None).await;
    send("one").await;
    let (first, id) = stream.next_named("message_created").await;
    assert_eq!(first["message"]["body"], "one");
    let id = id.expect("message events carry an id");
    drop(stream);

    send("two").await;
    send("three").await;
    let mut resumed = Sse::open(&app.address, &chat.client_token, Some(&id)).await;
    let (two, _) = resumed.next_named("message_created").await;
    let (three, _) = resumed.next_named("message_created").await;
    assert_eq!(
        (
            two["message"]["seq"].clone(),
            three["message"]["seq"].clone()
        ),
        (json!(2), json!(3))
    );
}
on_every_backend!(the_event_stream_resumes_from_last_event_id);

/// Bounded buffers: a subscriber that stops reading is told to resync and dropped,
/// while one that keeps up receives everything.
#[tokio::test]
async fn a_slow_subscriber_is_dropped_without_holding_back_a_fast_one() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let storage = domain::database::Storage::connect(db.url(), 2)
        .await
        .expect("a database");
    let hub = Hub::start(
        std::sync::Arc::new(InProcessBus::default()),
        storage.db.clone(),
        Duration::ZERO,
    )
    .await
    .expect("a hub");
    let (slow_account, fast_account) = (Uuid::now_v7(), Uuid::now_v7());
    let mut slow = hub.subscribe(slow_account);
    let mut fast = hub.subscribe(fast_account);
    let conversation = Uuid::now_v7();

    let reader = tokio::spawn(async move {
        let mut seqs = Vec::new();
        while let Some(Delivery::Event(event)) = fast.next().await {
            let Event::MessageDeleted { seq, .. } = *event else {
                break;
            };
            seqs.push(seq);
            if seqs.len() == 2_000 {
                break;
            }
        }
        seqs
    });
    for seq in 1..=2_000 {
        let event = Event::MessageDeleted {
            conversation_id: conversation,
            seq,
        };
        hub.publish(vec![slow_account, fast_account], event).await;
        if seq % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let seqs = tokio::time::timeout(WAIT, reader)
        .await
        .expect("in time")
        .expect("the reader");
    assert_eq!(
        seqs,
        (1..=2_000).collect::<Vec<_>>(),
        "the fast subscriber got everything"
    );

    let mut slow_got = 0;
    let last = loop {
        match tokio::time::timeout(WAIT, slow.next())
            .await
            .expect("in time")
        {
            Some(Delivery::Event(_)) => slow_got += 1,
            other => break other,
        }
    };
    assert_eq!(
        last,
        Some(Delivery::Resync),
        "the slow subscriber is told to resync"
    );
    assert!(slow_got < 2_000, "its buffer is bounded: {slow_got}");
    assert_eq!(slow.next().await, None, "and then closed");
    assert!(
        hub.metrics()
            .slow_subscribers_dropped
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
    let _ = Status::Online;
}

/// Two `portal` processes on one PostgreSQL database and the local NATS server: a
/// client listening on one node hears what is sent and who comes online on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_events_and_presence_over_nats() {
    let db = TestDatabase::create(Backend::Postgres).await;
    let nats = std::env::var("PORTAL_TEST_NATS_URL")
        .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let subject = format!("portal.test.{}", Uuid::now_v7().simple());
    let bus = [
        ("PORTAL_BUS_URL", nats.as_str()),
        ("PORTAL_BUS_SUBJECT", subject.as_str()),
    ];
    let first = PortalProcess::serve(db.url(), &bus);
    let second = PortalProcess::serve(db.url(), &bus);
    let storage = Storage::connect(db.url(), 2).await.expect("a connection");
    let (therapist, therapist_token) = second.signed_in(&storage, Role::Therapist).await;
    let (client, client_token) = first.signed_in(&storage, Role::Client).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/conversations", second.address))
        .bearer_auth(&therapist_token)
        .json(&json!({ "member_ids": [client.id] }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 201);
    let conversation = response.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    let mut listening = Sse::open(&first.address, &client_token, None).await;
    let mut messages = ws_signed_in(&first.address, &client_token).await;
    ws_send(
        &mut messages,
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($id: UUID!) { messageEvents(conversationId: $id) { kind seq message { body } } }",
            "variables": { "id": conversation } } }),
    )
    .await;
    ws_send(&mut messages, json!({ "type": "ping" })).await;
    assert_eq!(ws_next(&mut messages).await["type"], "pong");
    let _therapist_online = Sse::open(&second.address, &therapist_token, None).await;
    let (online, _) = listening.next_named("presence").await;
    assert_eq!(
        online,
        json!({ "account_id": therapist.id, "status": "online" })
    );

    let response = reqwest::Client::new()
        .post(format!(
            "{}/v1/conversations/{conversation}/messages",
            second.address
        ))
        .bearer_auth(&therapist_token)
        .json(&json!({ "body": "across nodes", "client_msg_id": "x-1" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 201);
    let (created, _) = listening.next_named("message_created").await;
    assert_eq!(created["message"]["body"], "across nodes");
    assert_eq!(created["conversation_id"], json!(conversation));
    let event = ws_next(&mut messages).await;
    assert_eq!(
        event["payload"]["data"]["messageEvents"],
        json!({ "kind": "CREATED", "seq": 1, "message": { "body": "across nodes" } }),
        "{event}"
    );
}
