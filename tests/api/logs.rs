//! Logs carry request ids and never a password, token or message body, even at
//! `PORTAL_LOG=debug`: `portal` runs as a child process and its output is searched.

use std::time::{Duration, Instant};

use domain::actor::Role;
use domain::database::Storage;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestDatabase, create_account_in};
use crate::process::PortalProcess;

async fn debug_logs_carry_request_ids_but_no_secret_or_message(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let portal = PortalProcess::serve(db.url(), &[("PORTAL_LOG", "debug")]);
    let storage = Storage::connect(db.url(), 2).await.expect("a connection");
    let therapist = create_account_in(&storage, Role::Therapist).await;
    let client = create_account_in(&storage, Role::Client).await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", portal.address);
    let canary = |what: &str| format!("canary-{what}-{}", uuid::Uuid::now_v7().simple());
    let (wrong_password, message, graphql_message, forged_token) = (
        canary("password"),
        canary("message"),
        canary("graphql-message"),
        canary("token"),
    );
    let request_id = canary("request-id");
    let login = |email: String, password: String| {
        http.post(url("/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
    };

    let refused = login(client.email.clone(), wrong_password.clone())
        .await
        .expect("answered");
    assert_eq!(refused.status(), 401);
    let therapist_tokens: Value = login(therapist.email.clone(), therapist.password.clone())
        .await
        .expect("answered")
        .json()
        .await
        .expect("a token pair");
    let client_tokens: Value = login(client.email.clone(), client.password.clone())
        .await
        .expect("answered")
        .json()
        .await
        .expect("a token pair");
    let therapist_token = therapist_tokens["access_token"].as_str().expect("a token");
    let client_token = client_tokens["access_token"].as_str().expect("a token");
    let conversation: Value = http
        .post(url("/v1/conversations"))
        .bearer_auth(therapist_token)
        .json(&json!({ "member_ids": [client.id] }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("a conversation");
    let conversation_id = conversation["id"].as_str().expect("an id");
    let sent = http
        .post(url(&format!(
            "/v1/conversations/{conversation_id}/messages"
        )))
        .bearer_auth(client_token)
        .header("x-request-id", &request_id)
        .json(&json!({ "body": message, "client_msg_id": "m-1" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(sent.status(), 201);
    assert_eq!(sent.headers()["x-request-id"], request_id.as_str());
    let graphql: Value = http
        .post(url("/graphql"))
        .bearer_auth(client_token)
        .json(&json!({
            "query": "mutation($c: UUID!, $b: String!) { sendMessage(conversationId: $c, clientMsgId: \"m-2\", body: $b) { created } }",
            "variables": { "c": conversation_id, "b": graphql_message },
        }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("a GraphQL response");
    assert_eq!(graphql["data"]["sendMessage"]["created"], true, "{graphql}");
    let forged = http
        .get(url("/v1/me"))
        .bearer_auth(&forged_token)
        .send()
        .await
        .expect("answered");
    assert_eq!(forged.status(), 401);

    // Lines are written before the response goes out, but reach us through a pipe.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !portal.output().contains(&request_id) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let output = portal.output();
    assert!(
        output.contains(&request_id),
        "the request id must be logged:\n{output}"
    );
    let secrets = [
        ("a password", therapist.password.as_str()),
        ("a wrong password", wrong_password.as_str()),
        ("a message body", message.as_str()),
        ("a GraphQL message body", graphql_message.as_str()),
        ("an access token", therapist_token),
        ("an access token", client_token),
        (
            "a refresh token",
            client_tokens["refresh_token"].as_str().expect("a token"),
        ),
        ("a forged token", forged_token.as_str()),
    ];
    for (what, secret) in secrets {
        assert!(
            !output.contains(secret),
            "{what} reached the log:\n{output}"
        );
    }
    for line in output.lines() {
        let parsed: Result<Value, _> = serde_json::from_str(line);
        assert!(parsed.is_ok(), "not a JSON log line: {line}");
    }
}
on_every_backend!(debug_logs_carry_request_ids_but_no_secret_or_message);
