//! Nothing owed is lost: pushes wait in the outbox while the push service is down and
//! across a crash of `portal`, and two nodes on one outbox deliver each push once.

use std::collections::HashMap;
use std::time::Duration;

use domain::actor::Role;
use domain::database::Storage;
use serde_json::{Value, json};

use super::receiver::Receiver;
use crate::helpers::{
    Backend, TestApp, TestDatabase, access_token_at, create_account_in, test_config,
};
use crate::process::PortalProcess;

const PUSH_ENV: [(&str, &str); 3] = [
    ("PORTAL_PUSH_ALLOW_LOOPBACK", "true"),
    ("PORTAL_PUSH_DELAY_MS", "100"),
    // Debug lines too, so that the check below covers every line a failure writes.
    ("PORTAL_LOG", "info,domain=debug"),
];

/// A client in a conversation with `therapist`, with a device at `/push/{device}`;
/// returns the conversation id.
async fn client_with_device(
    http: &reqwest::Client,
    base: &str,
    storage: &Storage,
    therapist_token: &str,
    browser: &Receiver,
    device: &str,
) -> String {
    let client = create_account_in(storage, Role::Client).await;
    let token = access_token_at(http, base, &client).await;
    let started: Value = http
        .post(format!("{base}/v1/conversations"))
        .bearer_auth(therapist_token)
        .json(&json!({ "member_ids": [client.id] }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    let register = || {
        http.post(format!("{base}/v1/push/subscriptions"))
            .bearer_auth(&token)
            .json(&browser.subscription(device))
            .send()
    };
    let mut registered = register().await.expect("answered");
    // Under the load of 1,000 password hashes a fresh connection can wait past the
    // server's request-head timeout; 408 says to send the request again.
    if registered.status() == 408 {
        registered = register().await.expect("answered");
    }
    assert_eq!(registered.status(), 201, "registering device {device}");
    started["id"].as_str().expect("an id").to_owned()
}

async fn send(http: &reqwest::Client, base: &str, token: &str, conversation: &str) {
    let response = http
        .post(format!("{base}/v1/conversations/{conversation}/messages"))
        .bearer_auth(token)
        .json(&json!({ "body": "news", "client_msg_id": uuid::Uuid::new_v4().to_string() }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 201);
}

/// Collects pushes until `expected` distinct devices have one and `quiet` passes
/// with nothing more; how many each device got.
async fn pushes_per_device(
    browser: &mut Receiver,
    expected: usize,
    limit: Duration,
) -> HashMap<String, usize> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let until = tokio::time::Instant::now() + limit;
    while let Some(left) = until.checked_duration_since(tokio::time::Instant::now()) {
        let wait = if seen.len() >= expected {
            Duration::from_secs(2)
        } else {
            left
        };
        let Some(push) = browser.next(wait).await else {
            break;
        };
        if push["status"] == 201 {
            *seen
                .entry(push["path"].as_str().expect("a path").to_owned())
                .or_default() += 1;
        }
    }
    seen
}

async fn pushes_owed_while_the_service_is_down_survive_a_crash(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let storage = Storage::connect(db.url(), 2).await.expect("a connection");
    let http = reqwest::Client::new();
    let portal = PortalProcess::serve(db.url(), &PUSH_ENV);
    let (_, therapist) = portal.signed_in(&storage, Role::Therapist).await;
    let browser = Receiver::start(&[]).await;
    let mut conversations = Vec::new();
    for device in ["a", "b", "c"] {
        conversations.push(
            client_with_device(
                &http,
                &portal.address,
                &storage,
                &therapist,
                &browser,
                device,
            )
            .await,
        );
    }

    // The push service goes away; messages are sent; portal crashes.
    let port = browser.port;
    let browser = browser.stop().await;
    for conversation in &conversations {
        send(&http, &portal.address, &therapist, conversation).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let crashed_output = portal.output();
    drop(portal);

    // A new portal and the push service come back: every push arrives, once.
    let portal = PortalProcess::serve(db.url(), &PUSH_ENV);
    let mut browser = browser.start_again().await;
    assert_eq!(browser.port, port);
    let seen = pushes_per_device(&mut browser, 3, Duration::from_secs(60)).await;
    let expected: HashMap<String, usize> = ["a", "b", "c"]
        .map(|d| (format!("/push/{d}"), 1))
        .into_iter()
        .collect();
    assert_eq!(seen, expected);

    // Failed sends were logged (at debug level), and no log line names a device.
    let logs = format!("{crashed_output}\n{}", portal.output());
    assert!(
        logs.contains("push not sent"),
        "the failures are logged:\n{logs}"
    );
    for secret in [
        format!("127.0.0.1:{port}/push"),
        browser.p256dh.clone(),
        browser.auth.clone(),
    ] {
        assert!(
            !logs.contains(&secret),
            "a log line names {secret}:\n{logs}"
        );
    }
}
on_every_backend!(pushes_owed_while_the_service_is_down_survive_a_crash);

/// Two nodes on one database and one outbox: 500 messages to 500 recipients give 500
/// pushes, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_each_push_once() {
    const RECIPIENTS: usize = 500;
    let db = TestDatabase::create(Backend::Postgres).await;
    let config = |url: &str| api::Config {
        push_allow_loopback: true,
        push_delay_ms: 100,
        ..test_config(url)
    };
    let first = config(db.url());
    let node_a = TestApp::boot(db, first).await;
    let node_b = node_a
        .another_node_with(config(node_a.database_url()))
        .await;
    let therapist = node_a.token_for(Role::Therapist).await;
    let mut browser = Receiver::start(&[]).await;
    let mut conversations = Vec::new();
    for n in 0..RECIPIENTS {
        let base = if n % 2 == 0 { &node_a.address } else { &node_b };
        conversations.push(
            client_with_device(
                &node_a.http,
                base,
                &node_a.storage,
                &therapist,
                &browser,
                &n.to_string(),
            )
            .await,
        );
    }
    for (n, conversation) in conversations.iter().enumerate() {
        let base = if n % 2 == 0 { &node_a.address } else { &node_b };
        send(&node_a.http, base, &therapist, conversation).await;
    }
    let seen = pushes_per_device(&mut browser, RECIPIENTS, Duration::from_secs(120)).await;
    assert_eq!(seen.len(), RECIPIENTS, "every recipient got a push");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
}
