//! Typing indicators: the other members hear them over SSE and `messageEvents`, the
//! typist and outsiders do not; a burst is passed on once a second; a `true` lapses
//! by itself; and none of it costs a database statement.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Sse, chat, ws_next, ws_send, ws_signed_in};
use crate::helpers::{Backend, TestApp, assert_problem};

async fn typing(app: &TestApp, token: &str, conversation: &str, typing: bool) -> reqwest::Response {
    app.post_json(
        &format!("/v1/conversations/{conversation}/typing"),
        &json!({ "typing": typing }),
        Some(token),
    )
    .await
}

/// The next `typing` frame within `within`, skipping others.
async fn next_typing(stream: &mut Sse, within: Duration) -> Option<Value> {
    let until = Instant::now() + within;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match stream.next(left).await {
            Some((name, data, id)) if name == "typing" => {
                assert!(id.is_none(), "typing is not part of the feed");
                return Some(data);
            }
            Some(_) => continue,
            None => return None,
        }
    }
    None
}

async fn typing_reaches_the_other_members_only_and_costs_no_statements(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let conversation = chat.conversation.as_str();
    let mut therapist = Sse::open(&app.address, &chat.therapist_token, None).await;
    let mut typist = Sse::open(&app.address, &chat.client_token, None).await;
    let mut socket = ws_signed_in(&app.address, &chat.therapist_token).await;
    ws_send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: UUID!) { messageEvents(conversationId: $id) { kind accountId typing } }",
        "variables": { "id": conversation } } })).await;
    ws_send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(ws_next(&mut socket).await["type"], "pong");

    assert_eq!(
        typing(&app, &chat.client_token, conversation, true)
            .await
            .status(),
        204
    );
    let heard = next_typing(&mut therapist, Duration::from_secs(5))
        .await
        .expect("heard");
    let client = chat.client.id.to_string();
    assert_eq!(
        heard,
        json!({ "conversation_id": conversation, "account_id": client, "typing": true })
    );
    let event = ws_next(&mut socket).await;
    assert_eq!(
        event["payload"]["data"]["messageEvents"],
        json!({ "kind": "TYPING", "accountId": client, "typing": true })
    );

    // Once the members are known, typing costs nothing of the database.
    let before = app.statements.total();
    assert_eq!(
        typing(&app, &chat.client_token, conversation, false)
            .await
            .status(),
        204
    );
    let stopped = next_typing(&mut therapist, Duration::from_secs(5))
        .await
        .expect("heard");
    assert_eq!(stopped["typing"], false);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        typing(&app, &chat.client_token, conversation, true)
            .await
            .status(),
        204
    );
    assert_eq!(
        next_typing(&mut therapist, Duration::from_secs(5))
            .await
            .expect("heard")["typing"],
        true
    );
    assert_eq!(
        app.statements.total() - before,
        0,
        "no statement per typing event"
    );

    assert!(
        next_typing(&mut typist, Duration::from_secs(1))
            .await
            .is_none(),
        "the typist does not hear themself"
    );
    // Not a member: as if the conversation did not exist, in both doors.
    assert_problem(
        typing(&app, &app.token, conversation, true).await,
        404,
        "not_found",
    )
    .await;
    let answer = app
        .graphql(
            "mutation($id: UUID!) { setTyping(conversationId: $id, typing: true) }",
            json!({ "id": conversation }),
        )
        .await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "not_found",
        "{answer}"
    );
}
on_every_backend!(typing_reaches_the_other_members_only_and_costs_no_statements);

async fn a_burst_is_passed_on_once_and_a_true_lapses_by_itself(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let conversation = chat.conversation.as_str();
    let mut therapist = Sse::open(&app.address, &chat.therapist_token, None).await;
    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(
            typing(&app, &chat.client_token, conversation, true)
                .await
                .status(),
            204
        );
    }
    let first = next_typing(&mut therapist, Duration::from_secs(5))
        .await
        .expect("heard");
    assert_eq!(first["typing"], true);
    let lapsed = next_typing(&mut therapist, Duration::from_secs(10))
        .await
        .expect("a lapse");
    assert_eq!(
        lapsed["typing"], false,
        "the burst was passed on once, then it lapsed"
    );
    let after = started.elapsed();
    assert!(
        after >= domain::chat::TYPING_LASTS - Duration::from_millis(200),
        "lapsed after {after:?}"
    );
}
on_every_backend!(a_burst_is_passed_on_once_and_a_true_lapses_by_itself);
