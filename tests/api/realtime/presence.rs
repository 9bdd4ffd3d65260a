//! Presence: contacts only, no statement per change, coalesced flaps, across two nodes.

use super::*;

async fn presence_reaches_contacts_only_and_costs_no_statements(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let stranger = app.create_account(Role::Client).await;
    let stranger_token = app.login(&stranger).await;

    let mut client_stream = Sse::open(&app.address, &chat.client_token, None).await;
    let mut stranger_stream = Sse::open(&app.address, &stranger_token, None).await;
    // The therapist comes online (a WebSocket session): the client sees it.
    let mut therapist_socket = ws_signed_in(&app.address, &chat.therapist_token).await;
    let (online, _) = client_stream.next_named("presence").await;
    assert_eq!(
        online,
        json!({ "account_id": chat.therapist.id, "status": "online" })
    );
    // The therapist saw the client come online too (the client's stream opened first).
    let presence: Value = app
        .get_as(
            &format!("/v1/presence?ids={},{}", chat.client.id, stranger.id),
            Some(&chat.therapist_token),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        presence,
        json!({ "items": [{ "account_id": chat.client.id, "status": "online" }] }),
        "non-contacts are absent"
    );
    let asked = app
        .graphql_as(
            "query($ids: [UUID!]!) { presence(ids: $ids) { accountId status } }",
            json!({ "ids": [chat.client.id, stranger.id] }),
            Some(&chat.therapist_token),
        )
        .await;
    assert_eq!(
        asked,
        json!({ "data": { "presence": [{ "accountId": chat.client.id, "status": "ONLINE" }] } }),
        "GraphQL answers as REST does"
    );

    // Wait out the coalescing window of the automatic "online", then change.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    app.get_as("/v1/me", Some(&chat.therapist_token)).await; // refresh the cached account status
    let before = app.statements.total();
    let response = app
        .http
        .put(format!("{}/v1/presence", app.address))
        .bearer_auth(&chat.therapist_token)
        .json(&json!({ "status": "busy" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let (busy, _) = client_stream.next_named("presence").await;
    assert_eq!(
        busy,
        json!({ "account_id": chat.therapist.id, "status": "busy" })
    );
    assert_eq!(
        app.statements.total() - before,
        0,
        "a presence change issues no statement"
    );

    // The stranger shares no conversation with the therapist and hears nothing.
    while let Some((name, data, _)) = stranger_stream.next(Duration::from_millis(1_500)).await {
        assert!(
            !(name == "presence" && data["account_id"] == json!(chat.therapist.id)),
            "a non-contact received {data}"
        );
    }

    // Flaps within a second are coalesced: away, busy, away -> one change to away.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    for status in ["away", "online", "away"] {
        app.http
            .put(format!("{}/v1/presence", app.address))
            .bearer_auth(&chat.therapist_token)
            .json(&json!({ "status": status }))
            .send()
            .await
            .expect("answered");
    }
    let mut seen = Vec::new();
    while let Some((name, data, _)) = client_stream.next(Duration::from_millis(2_500)).await {
        if name == "presence" {
            seen.push(data["status"].clone());
        }
    }
    assert_eq!(seen.first(), Some(&json!("away")));
    assert_eq!(seen.last(), Some(&json!("away")));
    assert!(seen.len() <= 2, "flaps coalesced: {seen:?}");

    // The last session closing takes the therapist offline after the grace period.
    therapist_socket.close(None).await.expect("closed");
    let (offline, _) = client_stream.next_named("presence").await;
    assert_eq!(
        offline,
        json!({ "account_id": chat.therapist.id, "status": "offline" })
    );
}
on_every_backend!(presence_reaches_contacts_only_and_costs_no_statements);

/// Two `portal` processes on one PostgreSQL database and the local NATS server: a
/// client listening on one node hears what is sent and who comes online on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_events_and_presence_over_nats() {
    let db = TestDatabase::create(Backend::Postgres).await;
    let nats = std::env::var("PORTAL_TEST_NATS_URL")
        .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let subject = format!("portal.test.{}", Uuid::now_v7().simple());
    let bus = [
        ("PORTAL_BUS_URL", nats.as_str()),
        ("PORTAL_BUS_SUBJECT", subject.as_str()),
    ];
    let first = PortalProcess::serve(db.url(), &bus);
    let second = PortalProcess::serve(db.url(), &bus);
    let storage = Storage::connect(db.url(), 2).await.expect("a connection");
    let (therapist, therapist_token) = second.signed_in(&storage, Role::Therapist).await;
    let (client, client_token) = first.signed_in(&storage, Role::Client).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/conversations", second.address))
        .bearer_auth(&therapist_token)
        .json(&json!({ "member_ids": [client.id] }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 201);
    let conversation = response.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    let mut listening = Sse::open(&first.address, &client_token, None).await;
    let mut messages = ws_signed_in(&first.address, &client_token).await;
    ws_send(
        &mut messages,
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($id: UUID!) { messageEvents(conversationId: $id) { kind seq message { body } } }",
            "variables": { "id": conversation } } }),
    )
    .await;
    ws_send(&mut messages, json!({ "type": "ping" })).await;
    assert_eq!(ws_next(&mut messages).await["type"], "pong");
    let _therapist_online = Sse::open(&second.address, &therapist_token, None).await;
    let (online, _) = listening.next_named("presence").await;
    assert_eq!(
        online,
        json!({ "account_id": therapist.id, "status": "online" })
    );

    let response = reqwest::Client::new()
        .post(format!(
            "{}/v1/conversations/{conversation}/messages",
            second.address
        ))
        .bearer_auth(&therapist_token)
        .json(&json!({ "body": "across nodes", "client_msg_id": "x-1" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 201);
    let (created, _) = listening.next_named("message_created").await;
    assert_eq!(created["message"]["body"], "across nodes");
    assert_eq!(created["conversation_id"], json!(conversation));
    let event = ws_next(&mut messages).await;
    assert_eq!(
        event["payload"]["data"]["messageEvents"],
        json!({ "kind": "CREATED", "seq": 1, "message": { "body": "across nodes" } }),
        "{event}"
    );
}

async fn a_presence_query_asks_about_at_most_the_domain_cap(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ids = |n: usize| {
        (0..n)
            .map(|_| Uuid::now_v7().to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let cap = domain::limits::MAX_PRESENCE_IDS;
    let allowed = app.get(&format!("/v1/presence?ids={}", ids(cap))).await;
    assert_eq!(allowed.status(), 200);
    let refused = app.get(&format!("/v1/presence?ids={}", ids(cap + 1))).await;
    let problem = crate::helpers::assert_problem(refused, 400, "invalid_parameter").await;
    assert_eq!(problem["parameter"], "ids");
    let too_many: Vec<Uuid> = (0..=cap).map(|_| Uuid::now_v7()).collect();
    let refused = app
        .graphql_as(
            "query($ids: [UUID!]!) { presence(ids: $ids) { accountId } }",
            json!({ "ids": too_many }),
            Some(&app.token),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "invalid_parameter",
        "{refused}"
    );
}
on_every_backend!(a_presence_query_asks_about_at_most_the_domain_cap);
