//! The bus never loses an event silently: two nodes on a NATS server of the test's
//! own, which is killed for 5 s while messages flow; the remote subscriber ends with
//! every message, through live events or through `resync` and a catch-up, and no
//! stream sends it one twice.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDatabase, test_config};
use crate::realtime::{Sse, chat};

const MESSAGES: i64 = 60;

/// A `nats-server` on a free loopback port, which the test stops and starts.
struct NatsServer {
    port: u16,
    child: Option<Child>,
}

impl NatsServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = Self { port, child: None };
        server.restart();
        server
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        // Debian installs it in /usr/sbin, which a non-root PATH may lack.
        let binary = ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
            .unwrap_or("nats-server");
        let child = Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server runs (apt-get install nats-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn a_bus_outage_loses_no_event_silently(backend: Backend) {
    let mut nats = NatsServer::start();
    let db = TestDatabase::create(backend).await;
    let subject = format!("portal.test.{}", uuid::Uuid::now_v7().simple());
    let bus_url = nats.url();
    let on_the_bus = |database_url: &str| {
        let mut config = test_config(database_url);
        config.bus_url = Some(bus_url.clone());
        config.bus_subject = subject.clone();
        config
    };
    let first = on_the_bus(db.url());
    let sender_node = TestApp::boot(db, first).await;
    let listener_node = sender_node
        .another_node_with(on_the_bus(sender_node.database_url()))
        .await;
    let chat = chat(&sender_node).await;
    // Where the client starts: its feed's position before anything is sent.
    let start = reqwest::Client::new()
        .get(format!("{listener_node}/v1/sync"))
        .bearer_auth(&chat.client_token)
        .send()
        .await
        .expect("answered")
        .json::<Value>()
        .await
        .expect("json");

    let sending = {
        let (address, token) = (sender_node.address.clone(), chat.therapist_token.clone());
        let conversation = chat.conversation.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for n in 0..MESSAGES {
                let response = http
                    .post(format!(
                        "{address}/v1/conversations/{conversation}/messages"
                    ))
                    .bearer_auth(&token)
                    .json(&json!({ "body": format!("m{n}"), "client_msg_id": format!("m{n}") }))
                    .send()
                    .await
                    .expect("answered");
                assert_eq!(response.status(), 201, "sending never waits on the bus");
                tokio::time::sleep(Duration::from_millis(120)).await;
            }
        })
    };
    let outage = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        nats.kill();
        tokio::time::sleep(Duration::from_secs(5)).await;
        nats.restart();
        nats
    });

    // The remote subscriber, as the README tells clients to be (and as EventSource
    // is): live events, and on `resync` a reconnect with the last event id it got as
    // Last-Event-ID, which replays the rest from the feed.
    let mut seen = BTreeSet::new();
    let mut this_stream = BTreeSet::new();
    let mut resyncs = 0;
    let mut last_id: Option<String> = start["next"].as_str().map(str::to_owned);
    // Generous: CI runs this beside the whole suite on two cores.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut stream = Sse::open(&listener_node, &chat.client_token, last_id.as_deref()).await;
    while (seen.len() as i64) < MESSAGES && Instant::now() < deadline {
        match stream.next(Duration::from_secs(2)).await {
            Some((name, data, id)) if name == "message_created" => {
                let seq = data["message"]["seq"].as_i64().expect("a seq");
                assert!(this_stream.insert(seq), "seq {seq} twice on one stream");
                seen.insert(seq);
                last_id = id.or(last_id);
            }
            Some((name, _, id)) if name == "resync" => {
                assert!(id.is_none(), "the start position is valid: no reload");
                resyncs += 1;
                stream = Sse::open(&listener_node, &chat.client_token, last_id.as_deref()).await;
                this_stream.clear();
            }
            Some(_) | None => {}
        }
    }
    sending.await.expect("the sender");
    let _nats = outage.await.expect("the outage");
    let missing: Vec<i64> = (1..=MESSAGES).filter(|seq| !seen.contains(seq)).collect();
    assert!(
        missing.is_empty(),
        "every message; missing {missing:?} after {resyncs} resyncs"
    );
    assert!(resyncs >= 1, "the outage was told to the subscriber");

    let metrics = reqwest::get(format!("{listener_node}/metrics"))
        .await
        .expect("answered")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("realtime_bus_connected 1"), "{metrics}");
    let gaps: Value = metrics
        .lines()
        .find_map(|l| l.strip_prefix("realtime_bus_gaps_total "))
        .map(|v| json!(v.trim().parse::<u64>().expect("a count")))
        .expect("realtime_bus_gaps_total");
    assert!(gaps.as_u64() >= Some(1), "{metrics}");
}
on_every_backend!(a_bus_outage_loses_no_event_silently);
