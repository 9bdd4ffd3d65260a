//! The access log (NEN 7513): every read of a client's data by someone else is in the
//! client's own view, whichever door it came through; the client's own reads are not;
//! a read whose entry cannot be written is refused.

use domain::actor::Role;
use serde_json::{Value, json};

use crate::conversing::send;
use crate::helpers::{Backend, TestApp, TestDatabase, assert_problem, test_config};
use crate::realtime::{Sse, chat, ws_next, ws_send, ws_signed_in};

/// The client's access log as (reader, purpose, door, resource kind, resource id).
async fn entries(app: &TestApp, token: &str) -> Vec<(String, String, String, String, String)> {
    let response = app.get_as("/v1/me/access-log?limit=100", Some(token)).await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.expect("json");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|entry| {
            let text = |field: &str| entry[field].as_str().unwrap_or_default().to_owned();
            (
                text("actor_id"),
                text("purpose"),
                text("door"),
                text("resource_kind"),
                text("resource_id"),
            )
        })
        .collect()
}

async fn every_door_that_reads_a_clients_conversation_is_logged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let id = chat.conversation.as_str();
    let therapist = chat.therapist.id.to_string();
    send(&app, &chat.therapist_token, id, "how was your week?").await;
    let since = app.get_as("/v1/sync", Some(&chat.therapist_token)).await;
    let since: Value = since.json().await.expect("json");

    // The client reading their own conversation adds nothing.
    let before = entries(&app, &chat.client_token).await;
    let path = format!("/v1/conversations/{id}/messages");
    assert_eq!(
        app.get_as(&path, Some(&chat.client_token)).await.status(),
        200
    );
    assert_eq!(entries(&app, &chat.client_token).await, before);

    // The therapist through REST (history), GraphQL and an SSE replay; support
    // reading the conversation's metadata.
    assert_eq!(
        app.get_as(&path, Some(&chat.therapist_token))
            .await
            .status(),
        200
    );
    let query = "query($id: UUID!) { conversation(id: $id) { messages(last: 2) { edges { node { body } } } } }";
    let body = app
        .graphql_as(query, json!({ "id": id }), Some(&chat.therapist_token))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    send(&app, &chat.client_token, id, "fine, thanks").await;
    let last_id = since["next"].as_str().expect("a sync token");
    let mut stream = Sse::open(&app.address, &chat.therapist_token, Some(last_id)).await;
    let (replayed, _) = stream.next_named("message_created").await;
    assert_eq!(replayed["message"]["body"], "fine, thanks");
    drop(stream);
    let mut socket = ws_signed_in(&app.address, &chat.therapist_token).await;
    let changes =
        "subscription($since: String) { changes(since: $since) { change { message { body } } } }";
    ws_send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": {
        "query": changes, "variables": { "since": last_id } } }),
    )
    .await;
    let replayed = ws_next(&mut socket).await;
    assert_eq!(
        replayed["payload"]["data"]["changes"]["change"]["message"]["body"], "fine, thanks",
        "{replayed}"
    );
    drop(socket);
    let support = app.token_for(Role::Support).await;
    let metadata = app
        .get_as(&format!("/v1/conversations/{id}"), Some(&support))
        .await;
    assert_eq!(metadata.status(), 200);

    let admin = app.token_for(Role::Admin).await;
    let export = format!("/v1/admin/accounts/{}/export", chat.client.id);
    let export = app.get_as(&export, Some(&admin)).await;
    assert_eq!(export.status(), 200);
    assert!(export.text().await.expect("a body").ends_with("\n"));

    let log = entries(&app, &chat.client_token).await;
    let conversation = |actor: &str, purpose: &str, door: &str| {
        (
            actor.to_owned(),
            purpose.to_owned(),
            door.to_owned(),
            "conversation".to_owned(),
            id.to_owned(),
        )
    };
    for door in ["rest", "graphql", "sse", "websocket"] {
        assert!(
            log.contains(&conversation(&therapist, "care", door)),
            "{door}: {log:?}"
        );
    }
    let by_support: Vec<_> = log.iter().filter(|e| e.1 == "support").collect();
    assert_eq!(by_support.len(), 1, "{log:?}");
    assert_eq!(by_support[0].2, "rest");
    let exports: Vec<_> = log.iter().filter(|e| e.1 == "export").collect();
    assert_eq!(exports.len(), 1, "{log:?}");
    assert_eq!(exports[0].3, "export");
    // The therapist's own log holds nobody's reads of them: they are no client of
    // this conversation.
    assert!(entries(&app, &chat.therapist_token).await.is_empty());

    // Who, in the client's words: the reader's name and role.
    let page: Value = app
        .get_as("/v1/me/access-log?limit=1", Some(&chat.client_token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["items"][0]["actor_role"], "admin", "{page}");
    assert_eq!(page["items"][0]["actor_name"], "Test admin", "{page}");
    assert_eq!(page["items"][0]["count"], 1, "{page}");

    // The same view through GraphQL.
    let body = app
        .graphql_as(
            "{ myAccessLog(first: 100) { nodes { purpose door actorRole } } }",
            Value::Null,
            Some(&chat.client_token),
        )
        .await;
    let nodes = body["data"]["myAccessLog"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(nodes.len(), log.len(), "{body}");
    assert!(nodes.iter().any(|n| n["purpose"] == "SUPPORT"), "{body}");
}
on_every_backend!(every_door_that_reads_a_clients_conversation_is_logged);

async fn repeated_reads_share_an_entry_with_a_count(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let path = format!("/v1/conversations/{}/messages", chat.conversation);
    for _ in 0..5 {
        assert_eq!(
            app.get_as(&path, Some(&chat.therapist_token))
                .await
                .status(),
            200
        );
    }
    // Counts of coalesced reads are written every few seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let page: Value = app
            .get_as("/v1/me/access-log", Some(&chat.client_token))
            .await
            .json()
            .await
            .expect("json");
        let items = page["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "start and five reads, one entry: {page}");
        // The start answered the conversation row: one read more.
        if items[0]["count"] == 6 {
            assert!(items[0]["last_at"].as_str() > items[0]["first_at"].as_str());
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{page}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
on_every_backend!(repeated_reads_share_an_entry_with_a_count);

async fn a_read_whose_entry_cannot_be_written_is_refused(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let config = api::Config {
        access_log_coalesce_secs: 0,
        ..test_config(db.url())
    };
    let app = TestApp::boot(db, config).await;
    let chat = chat(&app).await;
    send(
        &app,
        &chat.therapist_token,
        &chat.conversation,
        "a canary body",
    )
    .await;
    let rename = |from: &str, to: &str| match backend {
        Backend::MariaDb => format!("RENAME TABLE {from} TO {to}"),
        _ => format!("ALTER TABLE {from} RENAME TO {to}"),
    };
    use sea_orm::ConnectionTrait;
    app.storage
        .db
        .execute_unprepared(&rename("access_log", "access_log_away"))
        .await
        .expect("the table is moved away");

    let path = format!("/v1/conversations/{}/messages", chat.conversation);
    let response = app.get_as(&path, Some(&chat.therapist_token)).await;
    let problem = assert_problem(response, 503, "unavailable").await;
    assert!(!problem.to_string().contains("canary"), "{problem}");
    let query = "query($id: UUID!) { conversation(id: $id) { messages(last: 2) { edges { node { body } } } } }";
    let body = app
        .graphql_as(
            query,
            json!({ "id": chat.conversation }),
            Some(&chat.therapist_token),
        )
        .await;
    assert!(!body.to_string().contains("canary"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "unavailable",
        "{body}"
    );
    // The client's own reads log nothing, so nothing stops them.
    assert_eq!(
        app.get_as(&path, Some(&chat.client_token)).await.status(),
        200
    );

    app.storage
        .db
        .execute_unprepared(&rename("access_log_away", "access_log"))
        .await
        .expect("the table is back");
    let response = app.get_as(&path, Some(&chat.therapist_token)).await;
    assert_eq!(response.status(), 200);
}
on_every_backend!(a_read_whose_entry_cannot_be_written_is_refused);

async fn admins_search_the_log_and_others_may_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let admin = app.token_for(Role::Admin).await;
    let path = format!(
        "/v1/admin/access-log?client={}&purpose=care",
        chat.client.id
    );
    let page: Value = app
        .get_as(&path, Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["actor_id"], chat.therapist.id.to_string());
    let none = format!(
        "/v1/admin/access-log?client={}&purpose=export",
        chat.client.id
    );
    let page: Value = app
        .get_as(&none, Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["items"], json!([]), "{page}");

    let support = app.token_for(Role::Support).await;
    assert_problem(app.get_as(&path, Some(&support)).await, 403, "forbidden").await;
    let backwards = "/v1/me/access-log?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z";
    let problem = assert_problem(
        app.get_as(backwards, Some(&chat.client_token)).await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(problem["parameter"], "from", "{problem}");
}
on_every_backend!(admins_search_the_log_and_others_may_not);
