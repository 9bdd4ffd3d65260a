//! Sending a message owes a push to each recipient with a device, in the send's
//! transaction: never to the sender, never for a muted conversation. Seen where an
//! operator sees it, in `/metrics`.

use serde_json::json;

use super::{browser_subscription, register, set_muted, unique_endpoint};
use crate::helpers::{Backend, TestApp, assert_problem};
use crate::realtime::chat;

/// The value of the unlabelled gauge `name` in `/metrics`.
async fn gauge(app: &TestApp, name: &str) -> i64 {
    let text = app.get("/metrics").await.text().await.expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} is not in /metrics:\n{text}"))
        .trim()
        .parse()
        .expect("a number")
}

/// Sends message `n` (idempotent by `n`); the status.
async fn send(app: &TestApp, token: &str, conversation: &str, n: u32) -> u16 {
    app.post_json(
        &format!("/v1/conversations/{conversation}/messages"),
        &json!({ "body": format!("message {n}"), "client_msg_id": format!("m-{n}") }),
        Some(token),
    )
    .await
    .status()
    .as_u16()
}

async fn sending_owes_a_push_to_each_recipient_with_a_device(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    assert_eq!(gauge(&app, "push_outbox_pending").await, 0);

    // A recipient with no device is owed nothing.
    assert_eq!(
        send(&app, &chat.therapist_token, &chat.conversation, 1).await,
        201
    );
    assert_eq!(gauge(&app, "push_outbox_pending").await, 0);

    for token in [&chat.client_token, &chat.therapist_token] {
        let (status, _) = register(&app, &browser_subscription(&unique_endpoint()), token).await;
        assert_eq!(status, 201);
    }
    // The therapist sends: the client is owed one push, the sender none.
    assert_eq!(
        send(&app, &chat.therapist_token, &chat.conversation, 2).await,
        201
    );
    assert_eq!(gauge(&app, "push_outbox_pending").await, 1);
    // A retry of the same send stores nothing and owes nothing more.
    assert_eq!(
        send(&app, &chat.therapist_token, &chat.conversation, 2).await,
        200
    );
    assert_eq!(gauge(&app, "push_outbox_pending").await, 1);
    assert!(gauge(&app, "push_oldest_pending_seconds").await >= 0);
}
on_every_backend!(sending_owes_a_push_to_each_recipient_with_a_device);

async fn a_muted_conversation_owes_no_push(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let (status, _) = register(
        &app,
        &browser_subscription(&unique_endpoint()),
        &chat.client_token,
    )
    .await;
    assert_eq!(status, 201);
    let path = format!(
        "{}/v1/conversations/{}/notifications",
        app.address, chat.conversation
    );
    let muted = set_muted(&app, &chat.client_token, &chat.conversation, true).await;
    assert_eq!(muted.status(), 200);
    assert_eq!(
        muted.json::<serde_json::Value>().await.expect("json"),
        json!({ "muted": true })
    );
    let read = app
        .get_as(&path.replace(&app.address, ""), Some(&chat.client_token))
        .await;
    assert_eq!(
        read.json::<serde_json::Value>().await.expect("json")["muted"],
        true
    );

    assert_eq!(
        send(&app, &chat.therapist_token, &chat.conversation, 1).await,
        201
    );
    assert_eq!(gauge(&app, "push_outbox_pending").await, 0, "muted");

    // GraphQL unmutes the same setting; the next message is owed.
    let unmuted = app
        .graphql_as(
            "mutation($id: UUID!) { setNotificationSettings(conversationId: $id, muted: false) { muted } }",
            json!({ "id": chat.conversation }),
            Some(&chat.client_token),
        )
        .await;
    assert_eq!(
        unmuted["data"]["setNotificationSettings"]["muted"], false,
        "{unmuted}"
    );
    assert_eq!(
        send(&app, &chat.therapist_token, &chat.conversation, 2).await,
        201
    );
    assert_eq!(gauge(&app, "push_outbox_pending").await, 1);

    // Only members have a setting.
    let stranger = app.token_for(domain::actor::Role::Client).await;
    let response = set_muted(&app, &stranger, &chat.conversation, true).await;
    assert_problem(response, 404, "not_found").await;
}
on_every_backend!(a_muted_conversation_owes_no_push);
