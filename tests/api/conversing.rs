//! What a chat client calls, one line each for the tests that need a conversation to
//! change: start one, send, edit, delete, read, mute. Each asserts nothing beyond
//! the status it returns, except `send` and `start`, which need what they create.

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Starts a conversation of the therapist behind `token` with `member`; its id.
pub(crate) async fn start(app: &TestApp, token: &str, member: uuid::Uuid) -> String {
    let response = app
        .post_json(
            "/v1/conversations",
            &json!({ "member_ids": [member] }),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// Sends `body` to `conversation` as `token`; the new message's seq.
pub(crate) async fn send(app: &TestApp, token: &str, conversation: &str, body: &str) -> i64 {
    let response = app
        .post_json(
            &format!("/v1/conversations/{conversation}/messages"),
            &json!({ "body": body, "client_msg_id": uuid::Uuid::new_v4().to_string() }),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.expect("json")["seq"]
        .as_i64()
        .expect("a seq")
}

fn message(app: &TestApp, conversation: &str, seq: i64) -> String {
    format!(
        "{}/v1/conversations/{conversation}/messages/{seq}",
        app.address
    )
}

/// `PATCH` message `seq` to `body`; the status.
pub(crate) async fn edit(
    app: &TestApp,
    token: &str,
    conversation: &str,
    seq: i64,
    body: &str,
) -> u16 {
    app.http
        .patch(message(app, conversation, seq))
        .bearer_auth(token)
        .json(&json!({ "body": body }))
        .send()
        .await
        .expect("answered")
        .status()
        .as_u16()
}

/// `DELETE` message `seq`; the status.
pub(crate) async fn delete(app: &TestApp, token: &str, conversation: &str, seq: i64) -> u16 {
    app.http
        .delete(message(app, conversation, seq))
        .bearer_auth(token)
        .send()
        .await
        .expect("answered")
        .status()
        .as_u16()
}

/// Moves the read marker of `token`'s account to `seq`; the status.
pub(crate) async fn read(app: &TestApp, token: &str, conversation: &str, seq: i64) -> u16 {
    app.post_json(
        &format!("/v1/conversations/{conversation}/read"),
        &json!({ "seq": seq }),
        Some(token),
    )
    .await
    .status()
    .as_u16()
}

/// `PUT /v1/conversations/{conversation}/notifications { muted }` as `token`.
pub(crate) async fn set_muted(
    app: &TestApp,
    token: &str,
    conversation: &str,
    muted: bool,
) -> reqwest::Response {
    app.http
        .put(format!(
            "{}/v1/conversations/{conversation}/notifications",
            app.address
        ))
        .bearer_auth(token)
        .json(&json!({ "muted": muted }))
        .send()
        .await
        .expect("answered")
}
