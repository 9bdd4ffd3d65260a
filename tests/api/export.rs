//! The personal data export (GDPR Art. 15): every item once, matching what the API
//! shows, in a stream that says when it is whole; admins export anyone, nobody else
//! does, and an export is itself in the person's access log.

use std::collections::{BTreeMap, BTreeSet};

use domain::actor::Role;
use serde_json::{Value, json};

use crate::conversing::{delete, edit, read, send};
use crate::helpers::{Backend, TestAccount, TestApp, assert_problem};
use crate::push::{browser_subscription, register, unique_endpoint};

/// The lines of `path` as `token`, checked to be NDJSON.
async fn export(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    let response = app.get_as(path, Some(token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-ndjson",
        "{path}"
    );
    let text = response.text().await.expect("a body");
    assert!(text.ends_with('\n'), "every line ends with a newline");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

fn of_type<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|line| line["type"] == kind)
        .map(|line| &line["data"])
        .collect()
}

/// Every message of `conversation` as the API shows it, by seq.
async fn history(app: &TestApp, token: &str, conversation: &str) -> BTreeMap<i64, Value> {
    let mut messages = BTreeMap::new();
    let mut after = 0;
    loop {
        let path = format!("/v1/conversations/{conversation}/messages?after={after}&limit=100");
        let window: Value = app
            .get_as(&path, Some(token))
            .await
            .json()
            .await
            .expect("json");
        let items = window["items"].as_array().expect("items");
        for item in items {
            messages.insert(item["seq"].as_i64().expect("a seq"), item.clone());
        }
        match items.last() {
            Some(last) if window["has_newer"] == true => {
                after = last["seq"].as_i64().expect("a seq")
            }
            _ => return messages,
        }
    }
}

/// A client in three conversations of 5,000 messages in all, with edits and deletions
/// on both sides, a device, staff actions and a read by their therapist.
struct Busy {
    client: TestAccount,
    client_token: String,
    therapist_token: String,
    conversations: Vec<String>,
}

async fn busy_client(app: &TestApp) -> Busy {
    let client = app.create_account(Role::Client).await;
    let mut therapists = Vec::new();
    let mut conversations = Vec::new();
    for messages in [1_700, 1_700, 1_598] {
        let therapist = app.create_account(Role::Therapist).await;
        let id =
            domain::seed::seed_conversation(&app.storage.db, &[therapist.id, client.id], messages)
                .await
                .expect("seeded");
        conversations.push(id.to_string());
        therapists.push(therapist);
    }
    let client_token = app.login(&client).await;
    let therapist_token = app.login(&therapists[0]).await;
    let first = conversations[0].as_str();
    // Seeded messages alternate senders: odd seqs are the client's.
    assert_eq!(
        edit(app, &client_token, first, 1, "first, edited").await,
        200
    );
    assert_eq!(
        edit(app, &client_token, first, 1, "first, edited again").await,
        200
    );
    assert_eq!(delete(app, &client_token, first, 3).await, 204);
    assert_eq!(delete(app, &therapist_token, first, 2).await, 204);
    assert_eq!(send(app, &client_token, first, "canary-one").await, 1_701);
    assert_eq!(
        send(app, &therapist_token, first, "canary-two").await,
        1_702
    );
    assert_eq!(read(app, &client_token, first, 1_702).await, 200);
    let (status, _) = register(
        app,
        &browser_subscription(&unique_endpoint()),
        &client_token,
    )
    .await;
    assert_eq!(status, 201);
    let support = app.token_for(Role::Support).await;
    for action in ["disable", "enable"] {
        let path = format!("/v1/admin/accounts/{}/{action}", client.id);
        assert_eq!(
            app.post_json(&path, &json!({}), Some(&support))
                .await
                .status(),
            200
        );
    }
    let search = format!("/v1/admin/accounts?email_prefix={}", client.email);
    assert_eq!(app.get_as(&search, Some(&support)).await.status(), 200);
    let window = format!("/v1/conversations/{first}/messages");
    assert_eq!(
        app.get_as(&window, Some(&therapist_token)).await.status(),
        200
    );
    Busy {
        client_token: app.login(&client).await,
        client,
        therapist_token,
        conversations,
    }
}

async fn an_export_holds_every_item_once_as_the_api_shows_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let busy = busy_client(&app).await;
    let lines = export(&app, "/v1/me/export", &busy.client_token).await;

    assert_eq!(lines[0]["type"], "account");
    assert_eq!(
        lines[0]["data"]["account"]["id"],
        busy.client.id.to_string()
    );
    assert_eq!(lines[0]["data"]["account"]["email"], busy.client.email);
    let end = lines.last().expect("lines");
    assert_eq!(end["type"], "end");
    assert_eq!(end["data"]["lines"], lines.len() - 1);

    let conversations = of_type(&lines, "conversation");
    let ids: BTreeSet<&str> = conversations
        .iter()
        .map(|c| c["id"].as_str().expect("an id"))
        .collect();
    let expected: BTreeSet<&str> = busy.conversations.iter().map(String::as_str).collect();
    assert_eq!(ids, expected);
    assert!(
        conversations
            .iter()
            .all(|c| c["members"].as_array().expect("members").len() == 2)
    );
    assert_eq!(of_type(&lines, "read_marker").len(), 6);

    // Every message once, exactly as history shows it to the client.
    let messages = of_type(&lines, "message");
    assert_eq!(messages.len(), 5_000);
    for conversation in &busy.conversations {
        let exported: BTreeMap<i64, Value> = messages
            .iter()
            .filter(|m| m["conversation_id"] == conversation.as_str())
            .map(|m| {
                (
                    m["message"]["seq"].as_i64().expect("a seq"),
                    m["message"].clone(),
                )
            })
            .collect();
        let shown = history(&app, &busy.client_token, conversation).await;
        assert_eq!(exported.len(), shown.len(), "no seq twice");
        assert_eq!(exported, shown);
    }

    // The client's own earlier bodies, not the therapist's.
    let revisions: Vec<(i64, i64, &str)> = of_type(&lines, "revision")
        .iter()
        .map(|r| {
            (
                r["seq"].as_i64().expect("a seq"),
                r["revision"].as_i64().expect("a number"),
                r["body"].as_str().expect("a body"),
            )
        })
        .collect();
    assert_eq!(revisions.len(), 3, "{revisions:?}");
    assert_eq!((revisions[0].0, revisions[0].1), (1, 1));
    assert_eq!(
        (revisions[1].0, revisions[1].1, revisions[1].2),
        (1, 2, "first, edited")
    );
    assert_eq!(revisions[2].0, 3);

    let devices = of_type(&lines, "push_subscription");
    assert_eq!(devices.len(), 1);
    assert!(
        !devices[0].to_string().contains("p256dh"),
        "no keys: {}",
        devices[0]
    );
    let audit: Vec<&str> = of_type(&lines, "audit")
        .iter()
        .map(|a| a["action"].as_str().expect("an action"))
        .collect();
    assert_eq!(audit, ["account.disable", "account.enable"]);
    let access = of_type(&lines, "access");
    assert!(access.iter().any(|a| a["purpose"] == "care"), "{access:?}");
    assert!(
        access
            .iter()
            .any(|a| a["purpose"] == "support" && a["resource_kind"] == "account"),
        "{access:?}"
    );

    // The therapist's own export reads the client's conversation: logged for the
    // client, as an export.
    let therapist_lines = export(&app, "/v1/me/export", &busy.therapist_token).await;
    assert_eq!(of_type(&therapist_lines, "conversation").len(), 1);
    let theirs = of_type(&therapist_lines, "revision");
    assert_eq!(theirs.len(), 1, "only their own deletion: {theirs:?}");
    assert_eq!(theirs[0]["seq"], 2);
    let after: Value = app
        .get_as("/v1/me/access-log?limit=100", Some(&busy.client_token))
        .await
        .json()
        .await
        .expect("json");
    assert!(
        after["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|e| e["purpose"] == "export"
                && e["resource_kind"] == "conversation"
                && e["resource_id"] == busy.conversations[0].as_str()),
        "{after}"
    );
}
on_every_backend!(an_export_holds_every_item_once_as_the_api_shows_it);

async fn admins_export_anyone_and_nobody_else_does(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.create_account(Role::Client).await;
    let client_token = app.login(&client).await;
    let admin = app.token_for(Role::Admin).await;
    let path = format!("/v1/admin/accounts/{}/export", client.id);

    let lines = export(&app, &path, &admin).await;
    assert_eq!(lines[0]["data"]["account"]["id"], client.id.to_string());
    // The export is in what it exports, and in the client's own log.
    let access = of_type(&lines, "access");
    assert_eq!(access.len(), 1, "{access:?}");
    assert_eq!(access[0]["purpose"], "export");
    assert_eq!(access[0]["resource_kind"], "export");
    let log: Value = app
        .get_as("/v1/me/access-log", Some(&client_token))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(log["items"][0]["purpose"], "export", "{log}");
    assert_eq!(log["items"][0]["actor_role"], "admin", "{log}");

    // A person's own export is not a read by someone else.
    let own = export(&app, "/v1/me/export", &client_token).await;
    assert_eq!(of_type(&own, "access").len(), 1, "only the admin's");

    for role in [Role::Support, Role::Therapist, Role::Client] {
        let token = app.token_for(role).await;
        assert_problem(app.get_as(&path, Some(&token)).await, 403, "forbidden").await;
    }
    let unknown = format!("/v1/admin/accounts/{}/export", uuid::Uuid::new_v4());
    assert_problem(app.get_as(&unknown, Some(&admin)).await, 404, "not_found").await;
    assert_problem(
        app.get_as("/v1/me/export", None).await,
        401,
        "unauthenticated",
    )
    .await;
}
on_every_backend!(admins_export_anyone_and_nobody_else_does);
