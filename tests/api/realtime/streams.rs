//! Subscriptions and the event stream: who may open them, seq order, resuming with Last-Event-ID.

use super::*;

async fn websocket_and_sse_refuse_missing_or_bad_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for payload in [
        json!({}),
        json!({ "Authorization": "Bearer forged" }),
        json!({ "Authorization": "Basic abc" }),
    ] {
        let mut socket = ws_connect(&app.address).await;
        ws_send(
            &mut socket,
            json!({ "type": "connection_init", "payload": payload }),
        )
        .await;
        let answer = ws_next(&mut socket).await;
        // graphql-transport-ws: Forbidden, so that graphql-ws refreshes and retries.
        assert_eq!(answer["close"], 4403, "refused, not acknowledged: {answer}");
    }
    let response = app.get_as("/v1/events", None).await;
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(app.get_as("/v1/events", Some("forged")).await.status(), 401);

    let foreign = app
        .http
        .get(format!("{}/graphql/ws", app.address))
        .header("origin", "https://evil.example")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .send()
        .await
        .expect("answered");
    assert_eq!(
        foreign.status(),
        403,
        "a foreign origin cannot open a WebSocket"
    );
}
on_every_backend!(websocket_and_sse_refuse_missing_or_bad_tokens);

async fn message_events_reach_members_in_seq_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;

    let mut outsider = ws_signed_in(&app.address, &app.token).await;
    ws_send(
        &mut outsider,
        json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: UUID!) { messageEvents(conversationId: $id) { kind seq } }",
        "variables": { "id": chat.conversation } } }),
    )
    .await;
    let refused = ws_next(&mut outsider).await;
    // async-graphql reports a resolver error of a subscription as a `next` with errors.
    let errors = match refused["type"].as_str() {
        Some("error") => refused["payload"].clone(),
        _ => refused["payload"]["errors"].clone(),
    };
    assert_eq!(errors[0]["extensions"]["code"], "not_found", "{refused}");

    let mut socket = ws_signed_in(&app.address, &chat.client_token).await;
    ws_send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: UUID!) { messageEvents(conversationId: $id) { kind seq message { body } } }",
        "variables": { "id": chat.conversation } } })).await;
    // The subscription is registered once the server has processed `subscribe`;
    // a ping round trip after it proves that.
    ws_send(&mut socket, json!({ "type": "ping" })).await;
    assert_eq!(ws_next(&mut socket).await["type"], "pong");

    let senders: Vec<_> = (0..4)
        .map(|n| {
            let (http, address, id, token) = (
                app.http.clone(),
                app.address.clone(),
                chat.conversation.clone(),
                chat.therapist_token.clone(),
            );
            tokio::spawn(async move {
                for i in 0..5 {
                    let response = http
                        .post(format!("{address}/v1/conversations/{id}/messages"))
                        .bearer_auth(&token)
                        .json(&json!({ "body": format!("m{n}-{i}"), "client_msg_id": format!("{n}-{i}") }))
                        .send()
                        .await
                        .expect("answered");
                    assert_eq!(response.status(), 201);
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.expect("a sender");
    }
    let mut seqs = Vec::new();
    while seqs.len() < 20 {
        let message = ws_next(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(
            message["payload"]["data"]["messageEvents"]["kind"],
            "CREATED"
        );
        seqs.push(
            message["payload"]["data"]["messageEvents"]["seq"]
                .as_i64()
                .expect("a seq"),
        );
    }
    assert_eq!(
        seqs,
        (1..=20).collect::<Vec<_>>(),
        "in seq order, none missing"
    );
}
on_every_backend!(message_events_reach_members_in_seq_order);

async fn the_event_stream_resumes_from_last_event_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let send = |key: &'static str| {
        let app = &app;
        let chat = &chat;
        async move {
            let response = app
                .post_json(
                    &format!("/v1/conversations/{}/messages", chat.conversation),
                    &json!({ "body": key, "client_msg_id": key }),
                    Some(&chat.therapist_token),
                )
                .await;
            assert_eq!(response.status(), 201);
        }
    };

    let mut stream = Sse::open(&app.address, &chat.client_token, None).await;
    send("one").await;
    let (first, id) = stream.next_named("message_created").await;
    assert_eq!(first["message"]["body"], "one");
    let id = id.expect("message events carry an id");
    drop(stream);

    send("two").await;
    send("three").await;
    let mut resumed = Sse::open(&app.address, &chat.client_token, Some(&id)).await;
    let (two, _) = resumed.next_named("message_created").await;
    let (three, _) = resumed.next_named("message_created").await;
    assert_eq!(
        (
            two["message"]["seq"].clone(),
            three["message"]["seq"].clone()
        ),
        (json!(2), json!(3))
    );
}
on_every_backend!(the_event_stream_resumes_from_last_event_id);
