//! Real-time and chat measurements: presence fan-out, memory per WebSocket session,
//! message-event latency, concurrent sends. Accounts are seeded straight into the
//! server's database and their tokens signed with the server's key, so that hashing
//! thousands of passwords is not what gets measured.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

use crate::measure::summary;

/// The server under test.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// Base URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub base: String,
    /// The server's database, for seeding accounts.
    #[arg(long)]
    pub database_url: String,
    /// The server's `PORTAL_JWT_SECRET`.
    #[arg(long)]
    pub secret: String,
    /// Contacts (fan-out) or sessions (memory) to open.
    #[arg(long, default_value_t = 1_000)]
    pub contacts: u64,
}

/// A token the server accepts for `account` in `role`: an account seeded by
/// `seed_contacts`, whose sign-in id is its own.
pub(crate) fn mint(secret: &str, account: Uuid, role: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": account, "sid": account, "role": role, "iat": now, "nbf": now, "exp": now + 3_600,
        "iss": "therapist-portal", "aud": "therapist-portal-api" });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("a token")
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(socket: &mut Socket) -> Option<Value> {
    while let Some(Ok(message)) = socket.next().await {
        if let WsMessage::Text(text) = message {
            return serde_json::from_str(&text).ok();
        }
    }
    None
}

/// A signed-in graphql-transport-ws connection with one subscription in effect.
async fn subscribed(base: &str, token: &str, query: &str, variables: Value) -> Socket {
    let url = format!("{}/graphql/ws", base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("a request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("a header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the upgrade");
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket
        .send(WsMessage::text(init.to_string()))
        .await
        .expect("sent");
    let ack = next_json(&mut socket).await.expect("an answer");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } });
    socket
        .send(WsMessage::text(subscribe.to_string()))
        .await
        .expect("sent");
    socket
        .send(WsMessage::text(json!({ "type": "ping" }).to_string()))
        .await
        .expect("sent");
    loop {
        let message = next_json(&mut socket).await.expect("an answer");
        if message["type"] == "pong" {
            return socket;
        }
    }
}

pub(crate) async fn seed(target: &Target, clients: u64) -> (Uuid, Vec<Uuid>) {
    let storage = domain::database::Storage::connect(&target.database_url, 4)
        .await
        .expect("the server's database");
    domain::seed::seed_contacts(&storage.db, clients)
        .await
        .expect("accounts are seeded")
}

/// Opens one presence subscription per client, `in_flight` at a time.
async fn open_all(target: &Target, clients: &[Uuid]) -> Vec<Socket> {
    let query = "subscription { presenceChanged { accountId status } }";
    futures_util::stream::iter(clients.iter().copied())
        .map(|client| {
            let token = mint(&target.secret, client, "client");
            let base = target.base.clone();
            async move { subscribed(&base, &token, query, Value::Null).await }
        })
        .buffer_unordered(64)
        .collect()
        .await
}

pub async fn fanout(target: &Target) -> Value {
    let (therapist, clients) = seed(target, target.contacts).await;
    let opened = Instant::now();
    let sockets = open_all(target, &clients).await;
    let open_seconds = opened.elapsed().as_secs_f64();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let therapist_id = therapist.to_string();
    for mut socket in sockets {
        let (tx, therapist_id) = (tx.clone(), therapist_id.clone());
        tokio::spawn(async move {
            while let Some(message) = next_json(&mut socket).await {
                let change = &message["payload"]["data"]["presenceChanged"];
                if change["accountId"] == therapist_id.as_str() && change["status"] == "BUSY" {
                    let _ = tx.send(Instant::now());
                    break;
                }
            }
            // Keep the session open until the measurement ends.
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(socket);
        });
    }
    drop(tx);
    tokio::time::sleep(Duration::from_secs(2)).await; // let the clients' own "online" settle
    let token = mint(&target.secret, therapist, "therapist");
    let started = Instant::now();
    let response = reqwest::Client::new()
        .put(format!("{}/v1/presence", target.base))
        .bearer_auth(token)
        .json(&json!({ "status": "busy" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let mut arrivals = Vec::with_capacity(clients.len());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while arrivals.len() < clients.len() {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(at)) => arrivals.push(at - started),
            _ => break,
        }
    }
    json!({
        "contacts": clients.len(),
        "received": arrivals.len(),
        "open_sessions_seconds": open_seconds,
        "time_to_last_ms": arrivals.iter().max().map(|d| d.as_secs_f64() * 1_000.0),
        "arrival": summary(&mut arrivals),
    })
}

fn rss_kib(pid: u32) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server process");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

pub async fn ws_memory(target: &Target, pid: u32) -> Value {
    let (_, clients) = seed(target, target.contacts).await;
    // Warm up allocator pools and caches with a first batch that stays open.
    let warm = open_all(target, &clients[..clients.len() / 10]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss_kib(pid);
    let sockets = open_all(target, &clients[clients.len() / 10..]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_kib(pid);
    let sessions = sockets.len() as u64;
    drop((warm, sockets));
    json!({
        "sessions": sessions,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_session": (after.saturating_sub(before)) as f64 / sessions as f64,
    })
}

pub(crate) async fn conversation(target: &Target, therapist: Uuid, clients: &[Uuid]) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/conversations", target.base))
        .bearer_auth(mint(&target.secret, therapist, "therapist"))
        .json(&json!({ "member_ids": clients }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("json");
    body["id"].as_str().expect("an id").to_owned()
}

pub async fn event_latency(target: &Target, listen: &str, messages: usize) -> Value {
    let (therapist, clients) = seed(target, 1).await;
    let id = conversation(target, therapist, &clients).await;
    let query = "subscription($id: UUID!) { messageEvents(conversationId: $id) { kind seq } }";
    let listener_token = mint(&target.secret, clients[0], "client");
    let mut socket = subscribed(listen, &listener_token, query, json!({ "id": id })).await;
    let sender = reqwest::Client::new();
    let token = mint(&target.secret, therapist, "therapist");
    let mut samples = Vec::with_capacity(messages);
    for i in 0..messages {
        let started = Instant::now();
        let response = sender
            .post(format!("{}/v1/conversations/{id}/messages", target.base))
            .bearer_auth(&token)
            .json(&json!({ "body": format!("ping {i}"), "client_msg_id": format!("lat-{i}") }))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 201);
        loop {
            let message = next_json(&mut socket).await.expect("an event");
            if message["payload"]["data"]["messageEvents"]["seq"] == json!(i + 1) {
                break;
            }
        }
        samples.push(started.elapsed());
    }
    json!({ "send": target.base, "listen": listen, "latency": summary(&mut samples) })
}

pub async fn sends(target: &Target, senders: usize, conversations: usize, seconds: u64) -> Value {
    let (therapist, clients) = seed(target, senders as u64).await;
    let mut plan = Vec::new(); // (sender, conversation)
    if conversations <= 1 {
        let others = &clients[..senders.saturating_sub(1).min(19)];
        let id = conversation(target, therapist, others).await;
        plan.push((therapist, id.clone()));
        for client in others {
            plan.push((*client, id.clone()));
        }
    } else {
        let mut ids = Vec::new();
        for client in clients.iter().take(conversations) {
            ids.push(conversation(target, therapist, &[*client]).await);
        }
        for (n, client) in clients.iter().enumerate().take(senders) {
            plan.push((*client, ids[n % conversations].clone()));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = plan
        .into_iter()
        .enumerate()
        .map(|(n, (sender, id))| {
            let role = if sender == therapist {
                "therapist"
            } else {
                "client"
            };
            let (base, token) = (target.base.clone(), mint(&target.secret, sender, role));
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut sent = 0u64;
                while Instant::now() < deadline {
                    let response = client
                        .post(format!("{base}/v1/conversations/{id}/messages"))
                        .bearer_auth(&token)
                        .json(&json!({ "body": "load", "client_msg_id": format!("{n}-{sent}") }))
                        .send()
                        .await
                        .expect("answered");
                    assert_eq!(response.status(), 201);
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("a sender");
    }
    json!({ "senders": senders, "conversations": conversations.max(1), "messages": total,
        "sends_per_second": total as f64 / seconds as f64 })
}
