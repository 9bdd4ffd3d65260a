//! Push measurements: the latency of a send whose recipient has a device against one
//! whose recipient has none, and how fast nodes drain the outbox into a push service
//! on loopback. The push service is `Sink`: it reads each request whole, answers 201
//! and counts; it does not decrypt, so the dispatcher is what gets measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::measure::summary;
use crate::realtime::{Target, conversation, mint, seed};

/// A push service on loopback that accepts everything.
pub struct Sink {
    pub port: u16,
    received: Arc<AtomicU64>,
}

impl Sink {
    pub async fn start(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the sink's port");
        let port = listener.local_addr().expect("bound").port();
        let received = Arc::new(AtomicU64::new(0));
        let counter = received.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, counter.clone()));
            }
        });
        Self { port, received }
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

/// HTTP/1.1 keep-alive: each request's head and body are read, then 201.
async fn serve(mut socket: TcpStream, received: Arc<AtomicU64>) {
    let mut buffer = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.drain(..head_end + length);
        received.fetch_add(1, Ordering::Relaxed);
        let answer = b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n";
        if socket.write_all(answer).await.is_err() {
            return;
        }
    }
}

/// A browser subscription for `device` at the sink, with real keys.
fn subscription(port: u16, device: usize) -> Value {
    use base64::Engine as _;
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = p256::SecretKey::random(&mut rand::rngs::OsRng);
    json!({
        "kind": "webpush",
        "endpoint": format!("http://127.0.0.1:{port}/push/{device}"),
        "expirationTime": null,
        "keys": {
            "p256dh": b64.encode(key.public_key().to_encoded_point(false).as_bytes()),
            "auth": b64.encode(rand::random::<[u8; 16]>()),
        },
    })
}

/// `messages` sends in turns to conversations whose client has a device and to
/// conversations whose client has none, so that drift hits both alike.
pub async fn send_latency(target: &Target, messages: usize, conversations: usize) -> Value {
    let sink = Sink::start(0).await;
    let (therapist, clients) = seed(target, 2 * conversations as u64).await;
    let http = reqwest::Client::new();
    let mut pushed = Vec::new();
    let mut plain = Vec::new();
    for (n, client) in clients.iter().enumerate() {
        let id = conversation(target, therapist, &[*client]).await;
        if n % 2 == 0 {
            let response = http
                .post(format!("{}/v1/push/subscriptions", target.base))
                .bearer_auth(mint(&target.secret, *client, "client"))
                .json(&subscription(sink.port, n))
                .send()
                .await
                .expect("answered");
            assert_eq!(response.status(), 201, "a device is registered");
            pushed.push(id);
        } else {
            plain.push(id);
        }
    }
    let token = mint(&target.secret, therapist, "therapist");
    let send = |id: String, n: usize| {
        let (http, token, base) = (http.clone(), token.clone(), target.base.clone());
        async move {
            let started = Instant::now();
            let response = http
                .post(format!("{base}/v1/conversations/{id}/messages"))
                .bearer_auth(&token)
                .json(&json!({ "body": "latency", "client_msg_id": format!("push-latency-{n}") }))
                .send()
                .await
                .expect("answered");
            assert_eq!(response.status(), 201);
            started.elapsed()
        }
    };
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for n in 0..messages {
        with.push(send(pushed[n % pushed.len()].clone(), 2 * n).await);
        without.push(send(plain[n % plain.len()].clone(), 2 * n + 1).await);
    }
    // Let the dispatcher finish what the sends owed, to show it was really pushing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    json!({
        "with_push": summary(&mut with),
        "without_push": summary(&mut without),
        "pushes_received": sink.received(),
    })
}

/// Runs a sink on `port` until it has received `expected` pushes (or `limit` passes);
/// the time from the first push to the last.
pub async fn drain(port: u16, expected: u64, limit: Duration) -> Value {
    let sink = Sink::start(port).await;
    let started = Instant::now();
    let mut first = None;
    while sink.received() < expected && started.elapsed() < limit {
        if first.is_none() && sink.received() > 0 {
            first = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seconds = first.map_or(0.0, |first| first.elapsed().as_secs_f64());
    let received = sink.received();
    json!({
        "received": received,
        "expected": expected,
        "seconds": seconds,
        "pushes_per_second": if seconds > 0.0 { received as f64 / seconds } else { 0.0 },
    })
}
