//! A long-lived session (SSE stream, WebSocket) is only as alive as its credentials:
//! it ends when the account is disabled (at once on the node that disabled it,
//! within the status cache's 5 s on another), when its sign-in signs out, and at the
//! token's expiry plus the leeway; nothing is delivered after that.

use std::time::{Duration, Instant};

use domain::actor::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDatabase, test_config};
use crate::realtime::{Chat, Sse, chat, ws_next, ws_send, ws_signed_in};

/// How long another node may keep serving a disabled account: the status cache's age.
const CACHE_WINDOW: Duration = Duration::from_secs(5);
/// Scheduling slack on top of a deadline, for a busy 2-core machine.
const SLACK: Duration = Duration::from_millis(750);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket of `token` at `address`, subscribed to the chat's message events.
async fn subscribed(address: &str, token: &str, chat: &Chat) -> Socket {
    let mut socket = ws_signed_in(address, token).await;
    ws_send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: UUID!) { messageEvents(conversationId: $id) { kind seq } }",
        "variables": { "id": chat.conversation } } }),
    )
    .await;
    // The subscription is registered once a ping sent after it is answered.
    ws_send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(ws_next(&mut socket).await["type"], "pong");
    socket
}

async fn send(address: &str, conversation: &str, token: &str, body: &str) -> u16 {
    reqwest::Client::new()
        .post(format!(
            "{address}/v1/conversations/{conversation}/messages"
        ))
        .bearer_auth(token)
        .json(&json!({ "body": body, "client_msg_id": uuid::Uuid::now_v7() }))
        .send()
        .await
        .expect("answered")
        .status()
        .as_u16()
}

/// Reads the stream until it ends; returns when each message event arrived and the
/// `reauthenticate` event's data, if one came.
async fn sse_until_end(mut sse: Sse, limit: Duration) -> (Vec<Instant>, Option<Value>) {
    let deadline = Instant::now() + limit;
    let mut messages = Vec::new();
    while let Some((name, data, _)) = sse.next(deadline - Instant::now()).await {
        match name.as_str() {
            "message_created" => messages.push(Instant::now()),
            "reauthenticate" => {
                assert!(sse.ended().await, "the stream ends after reauthenticate");
                return (messages, Some(data));
            }
            _ => {}
        }
    }
    (messages, None)
}

/// Reads the socket until it closes; returns when each event arrived and the close
/// code.
async fn ws_until_close(mut socket: Socket, limit: Duration) -> (Vec<Instant>, Value) {
    let deadline = Instant::now() + limit;
    let mut events = Vec::new();
    while Instant::now() < deadline {
        let message = ws_next(&mut socket).await;
        if message["type"] == "next" {
            events.push(Instant::now());
        } else if let Some(code) = message.get("close") {
            return (events, code.clone());
        }
    }
    (events, Value::Null)
}

async fn disable(app: &TestApp, address: &str, account: uuid::Uuid) -> Instant {
    let support = app.token_for(Role::Support).await;
    let response = reqwest::Client::new()
        .post(format!("{address}/v1/admin/accounts/{account}/disable"))
        .bearer_auth(&support)
        .json(&json!({}))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    Instant::now()
}

async fn streams_of_a_disabled_account_end_at_once_on_its_node(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let mut sse = Sse::open(&app.address, &chat.client_token, None).await;
    let mut socket = subscribed(&app.address, &chat.client_token, &chat).await;
    assert_eq!(
        send(
            &app.address,
            &chat.conversation,
            &chat.therapist_token,
            "before"
        )
        .await,
        201
    );
    assert_eq!(
        sse.next_named("message_created").await.0["message"]["body"],
        "before"
    );
    assert_eq!(ws_next(&mut socket).await["type"], "next");

    disable(&app, &app.address, chat.client.id).await;
    assert_eq!(
        send(
            &app.address,
            &chat.conversation,
            &chat.therapist_token,
            "after"
        )
        .await,
        201
    );
    let (sse_messages, reauthenticate) = sse_until_end(sse, Duration::from_secs(3)).await;
    assert!(
        sse_messages.is_empty(),
        "nothing after the disable over SSE"
    );
    assert_eq!(
        reauthenticate.expect("the stream ends with reauthenticate")["reason"],
        "revoked"
    );
    let (ws_events, close) = ws_until_close(socket, Duration::from_secs(3)).await;
    assert!(
        ws_events.is_empty(),
        "nothing after the disable over WebSocket"
    );
    assert_eq!(close, 4403);
}
on_every_backend!(streams_of_a_disabled_account_end_at_once_on_its_node);

async fn streams_of_a_disabled_account_end_within_the_cache_window_elsewhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = app.another_node().await;
    let chat = chat(&app).await;
    let sse = Sse::open(&other, &chat.client_token, None).await;
    let socket = subscribed(&other, &chat.client_token, &chat).await;

    let disabled_at = disable(&app, &app.address, chat.client.id).await;
    // Messages keep flowing on the other node (whose own hub delivers them).
    let sender = {
        let (other, token) = (other.clone(), chat.therapist_token.clone());
        let conversation = chat.conversation.clone();
        tokio::spawn(async move {
            while disabled_at.elapsed() < CACHE_WINDOW + SLACK * 2 {
                assert_eq!(send(&other, &conversation, &token, "flowing").await, 201);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let limit = CACHE_WINDOW + SLACK * 3;
    let ((sse_messages, reauthenticate), (ws_events, close)) =
        tokio::join!(sse_until_end(sse, limit), ws_until_close(socket, limit));
    sender.await.expect("the sender");
    let cutoff = disabled_at + CACHE_WINDOW + SLACK;
    assert!(
        sse_messages.iter().all(|at| *at < cutoff),
        "SSE: nothing past the cache window"
    );
    assert!(
        ws_events.iter().all(|at| *at < cutoff),
        "WebSocket: nothing past the cache window"
    );
    assert_eq!(
        reauthenticate.expect("the stream ends with reauthenticate")["reason"],
        "revoked"
    );
    assert_eq!(close, 4403);
}
on_every_backend!(streams_of_a_disabled_account_end_within_the_cache_window_elsewhere);

/// An app whose tokens live `ttl_secs`, with one second of leeway.
async fn with_token_ttl(backend: Backend, ttl_secs: u64) -> TestApp {
    let db = TestDatabase::create(backend).await;
    let mut config = test_config(db.url());
    config.access_token_ttl_secs = ttl_secs;
    config.jwt_leeway_secs = 1;
    TestApp::boot(db, config).await
}

async fn streams_end_when_their_token_expires(backend: Backend) {
    let app = with_token_ttl(backend, 2).await;
    let chat = chat(&app).await;
    let client_token = app.login(&chat.client).await;
    let signed_in = Instant::now();
    let sse = Sse::open(&app.address, &client_token, None).await;
    let socket = subscribed(&app.address, &client_token, &chat).await;
    // `exp` is whole seconds: the token ends 2 to 3 s after sign-in, plus 1 s leeway.
    let ((sse_messages, reauthenticate), (ws_events, close)) = tokio::join!(
        sse_until_end(sse, Duration::from_secs(8)),
        ws_until_close(socket, Duration::from_secs(8))
    );
    let ended = signed_in.elapsed();
    assert!(
        ended >= Duration::from_secs(2) && ended < Duration::from_secs(4) + SLACK,
        "ended {ended:?} after sign-in"
    );
    assert!(sse_messages.is_empty() && ws_events.is_empty());
    assert_eq!(
        reauthenticate.expect("the stream ends with reauthenticate")["reason"],
        "expired"
    );
    assert_eq!(close, 4403);
}
on_every_backend!(streams_end_when_their_token_expires);

async fn a_websocket_renews_its_token_with_a_ping(backend: Backend) {
    let app = with_token_ttl(backend, 6).await;
    let chat = chat(&app).await;
    let signed_in = Instant::now();
    let first = app.login(&chat.client).await;
    let mut socket = subscribed(&app.address, &first, &chat).await;

    tokio::time::sleep(Duration::from_secs(3)).await;
    let fresh = app.login(&chat.client).await;
    let renewal = json!({ "Authorization": format!("Bearer {fresh}") });
    ws_send(&mut socket, json!({ "type": "ping", "payload": renewal })).await;
    let pong = ws_next(&mut socket).await;
    assert_eq!(pong["type"], "pong");
    assert_eq!(pong["payload"]["renewed"], true, "{pong}");

    // Past the first token's end (at most 7 s after sign-in), within the fresh one's.
    tokio::time::sleep(
        (signed_in + Duration::from_millis(7_500)).saturating_duration_since(Instant::now()),
    )
    .await;
    let therapist = app.login(&chat.therapist).await;
    assert_eq!(
        send(&app.address, &chat.conversation, &therapist, "still here").await,
        201
    );
    let event = ws_next(&mut socket).await;
    assert_eq!(
        event["type"], "next",
        "the renewed session still delivers: {event}"
    );

    // A token of somebody else does not renew this session: it ends.
    let foreign = json!({ "Authorization": format!("Bearer {therapist}") });
    ws_send(&mut socket, json!({ "type": "ping", "payload": foreign })).await;
    let mut answer = ws_next(&mut socket).await;
    if answer["type"] == "pong" {
        answer = ws_next(&mut socket).await;
    }
    assert_eq!(answer["close"], 4403, "{answer}");
}
on_every_backend!(a_websocket_renews_its_token_with_a_ping);

async fn signing_out_ends_that_sign_ins_stream(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.create_account(Role::Client).await;
    let pair = app.sign_in(&account).await;
    let access = pair["access_token"].as_str().expect("an access token");
    let other_sign_in = app.login(&account).await;
    let sse = Sse::open(&app.address, access, None).await;
    let mut stays = Sse::open(&app.address, &other_sign_in, None).await;

    sign_out(&app, &pair).await;
    let (_, reauthenticate) = sse_until_end(sse, Duration::from_secs(3)).await;
    assert_eq!(
        reauthenticate.expect("the stream ends with reauthenticate")["reason"],
        "revoked"
    );
    assert_eq!(app.get_as("/v1/me", Some(access)).await.status(), 401);
    assert!(
        stays.still_open(Duration::from_secs(2)).await,
        "the other sign-in's stream goes on"
    );
    assert_eq!(
        app.get_as("/v1/me", Some(&other_sign_in)).await.status(),
        200
    );
}
on_every_backend!(signing_out_ends_that_sign_ins_stream);

async fn a_sign_out_reaches_the_other_nodes_within_the_cache_window(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = app.another_node().await;
    let account = app.create_account(Role::Client).await;
    let pair = app.sign_in(&account).await;
    let access = pair["access_token"].as_str().expect("an access token");
    let me = |address: String| {
        let access = access.to_owned();
        async move {
            reqwest::Client::new()
                .get(format!("{address}/v1/me"))
                .bearer_auth(access)
                .send()
                .await
                .expect("answered")
                .status()
                .as_u16()
        }
    };
    // The other node has the sign-in in its cache.
    assert_eq!(me(other.clone()).await, 200);
    sign_out(&app, &pair).await;
    let signed_out = Instant::now();
    assert_eq!(
        me(app.address.clone()).await,
        401,
        "at once on its own node"
    );
    while me(other.clone()).await == 200 {
        assert!(
            signed_out.elapsed() < CACHE_WINDOW + SLACK,
            "the other node refuses the token within the cache window"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(me(other).await, 401);
}
on_every_backend!(a_sign_out_reaches_the_other_nodes_within_the_cache_window);

/// Signs the sign-in of `pair` out.
async fn sign_out(app: &TestApp, pair: &Value) {
    let body = json!({ "refresh_token": pair["refresh_token"] });
    let response = app.post_json("/v1/auth/logout", &body, None).await;
    assert_eq!(response.status(), 204);
}
