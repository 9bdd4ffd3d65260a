//! Chat: history windows that load incrementally, idempotent sending, seqs with no
//! gap or repeat under concurrency, tombstones, read markers and membership.

mod access;
mod graphql_history;
mod history;
mod sending;
mod sync;

use std::collections::HashSet;

use domain::actor::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestAccount, TestApp, assert_problem};

/// A therapist and a client, signed in, sharing a conversation.
struct Pair {
    therapist: TestAccount,
    therapist_token: String,
    client: TestAccount,
    client_token: String,
    conversation: String,
}

async fn pair_with_history(app: &TestApp, messages: u64) -> Pair {
    let therapist = app.create_account(Role::Therapist).await;
    let client = app.create_account(Role::Client).await;
    let conversation =
        domain::seed::seed_conversation(&app.storage.db, &[therapist.id, client.id], messages)
            .await
            .expect("a seeded conversation")
            .to_string();
    Pair {
        therapist_token: app.login(&therapist).await,
        client_token: app.login(&client).await,
        therapist,
        client,
        conversation,
    }
}

fn seqs(window: &Value) -> Vec<i64> {
    window["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["seq"].as_i64().expect("a seq"))
        .collect()
}

async fn window(app: &TestApp, pair: &Pair, query: &str) -> Value {
    let response = app
        .get_as(
            &format!("/v1/conversations/{}/messages?{query}", pair.conversation),
            Some(&pair.client_token),
        )
        .await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.expect("json")
}

async fn send(
    app: &TestApp,
    conversation: &str,
    token: &str,
    key: &str,
    body: &str,
) -> reqwest::Response {
    app.post_json(
        &format!("/v1/conversations/{conversation}/messages"),
        &json!({ "body": body, "client_msg_id": key }),
        Some(token),
    )
    .await
}
