//! Erasure (GDPR Art. 17): afterwards no text column of any table holds the person's
//! email, name or anything they wrote; the other member's history keeps its seqs as
//! tombstones; every credential and stream of theirs is gone; a legal hold forbids
//! it; a second erasure has nothing left to do.

use domain::actor::Role;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::conversing::{delete, edit, send, start};
use crate::helpers::{Backend, TestApp, assert_problem};
use crate::push::{browser_subscription, register, unique_endpoint};
use crate::realtime::{Sse, ws_next, ws_signed_in};

/// Every (table, column) of text, from the backend's own catalogue.
async fn text_columns(db: &impl ConnectionTrait) -> Vec<(String, String)> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema() \
             AND data_type IN ('text', 'character varying', 'character')"
        }
        DbBackend::MySql => {
            "SELECT table_name AS t, column_name AS c FROM information_schema.columns \
             WHERE table_schema = DATABASE() \
             AND data_type IN ('varchar', 'char', 'text', 'tinytext', 'mediumtext', 'longtext')"
        }
        _ => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND (upper(p.type) LIKE '%CHAR%' \
             OR upper(p.type) LIKE '%TEXT%' OR upper(p.type) LIKE '%CLOB%' OR p.type = '')"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("the catalogue");
    let columns: Vec<(String, String)> = rows
        .iter()
        .map(|row| {
            (
                row.try_get("", "t").expect("a table"),
                row.try_get("", "c").expect("a column"),
            )
        })
        .collect();
    assert!(
        columns.iter().any(|(t, c)| t == "messages" && c == "body"),
        "the scan sees message bodies: {columns:?}"
    );
    columns
}

/// Where `needle` is still stored, as `table.column`.
async fn traces_of(db: &impl ConnectionTrait, needle: &str) -> Vec<String> {
    let backend = db.get_database_backend();
    let quote = |name: &str| match backend {
        DbBackend::MySql => format!("`{name}`"),
        _ => format!("\"{name}\""),
    };
    let mut found = Vec::new();
    for (table, column) in text_columns(db).await {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM {} WHERE {} LIKE '%{needle}%'",
            quote(&table),
            quote(&column)
        );
        let row = db
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .expect("scanned")
            .expect("a count");
        let count: i64 = row.try_get("", "n").expect("a count");
        if count > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    found
}

async fn erase(app: &TestApp, token: &str, person: &str, body: Value) -> reqwest::Response {
    app.post_json(
        &format!("/v1/admin/accounts/{person}/erase"),
        &body,
        Some(token),
    )
    .await
}

async fn hold(app: &TestApp, token: &str, person: &str, held: bool) -> reqwest::Response {
    app.http
        .put(format!(
            "{}/v1/admin/accounts/{person}/legal-hold",
            app.address
        ))
        .bearer_auth(token)
        .json(&json!({ "held": held, "reason": "complaint under review" }))
        .send()
        .await
        .expect("answered")
}

async fn erasure_leaves_no_trace_and_keeps_the_others_history_whole(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mark = uuid::Uuid::new_v4().simple().to_string();
    let (email, name, canary) = (
        format!("erin-{mark}@example.org"),
        format!("Erin {mark}"),
        format!("canary-{mark}"),
    );
    let password = "a long enough secret";
    let signup = app
        .post_json(
            "/v1/auth/signup",
            &json!({ "email": email, "password": password, "display_name": name }),
            None,
        )
        .await;
    assert_eq!(signup.status(), 201);
    let person = signup.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let pair = app
        .post_json(
            "/v1/auth/login",
            &json!({ "email": email, "password": password }),
            None,
        )
        .await
        .json::<Value>()
        .await
        .expect("json");
    let token = pair["access_token"].as_str().expect("a token").to_owned();
    let therapist = app.create_account(Role::Therapist).await;
    let therapist_token = app.login(&therapist).await;
    let id = start(&app, &therapist_token, person.parse().expect("a uuid")).await;
    let conversation = id.as_str();
    assert_eq!(
        send(&app, &token, conversation, &format!("{canary} one")).await,
        1
    );
    assert_eq!(
        send(&app, &token, conversation, &format!("{canary} two")).await,
        2
    );
    assert_eq!(send(&app, &therapist_token, conversation, "hello").await, 3);
    assert_eq!(
        send(&app, &token, conversation, &format!("{canary} three")).await,
        4
    );
    let edited = format!("{canary} one, edited");
    assert_eq!(edit(&app, &token, conversation, 1, &edited).await, 200);
    assert_eq!(delete(&app, &token, conversation, 4).await, 204);
    let (status, _) = register(&app, &browser_subscription(&unique_endpoint()), &token).await;
    assert_eq!(status, 201);
    let window = format!("/v1/conversations/{conversation}/messages");
    assert_eq!(
        app.get_as(&window, Some(&therapist_token)).await.status(),
        200
    );
    let mut stream = Sse::open(&app.address, &token, None).await;
    let mut socket = ws_signed_in(&app.address, &token).await;
    assert!(
        !traces_of(&app.storage.db, &canary).await.is_empty(),
        "the scan finds what is there"
    );

    // A legal hold refuses erasure, in both doors; so do bad reasons and non-admins.
    let admin = app.token_for(Role::Admin).await;
    assert_eq!(hold(&app, &admin, &person, true).await.status(), 200);
    let held = erase(
        &app,
        &admin,
        &person,
        json!({ "reason": "the person asked" }),
    )
    .await;
    assert_problem(held, 409, "legal_hold").await;
    let body = app
        .graphql_as(
            "mutation($id: UUID!) { eraseAccount(id: $id, reason: \"asked\") { alreadyErased } }",
            json!({ "id": person }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "legal_hold",
        "{body}"
    );
    assert_eq!(hold(&app, &admin, &person, false).await.status(), 200);
    for reason in [
        json!({}),
        json!({ "reason": " " }),
        json!({ "reason": "x".repeat(501) }),
    ] {
        assert_problem(
            erase(&app, &admin, &person, reason).await,
            422,
            "validation_failed",
        )
        .await;
    }
    let support = app.token_for(Role::Support).await;
    let asked = json!({ "reason": "the person asked" });
    assert_problem(
        erase(&app, &support, &person, asked.clone()).await,
        403,
        "forbidden",
    )
    .await;
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_problem(
        erase(&app, &admin, &unknown, asked.clone()).await,
        404,
        "not_found",
    )
    .await;

    let erased = erase(&app, &admin, &person, asked.clone()).await;
    assert_eq!(erased.status(), 200);
    let erased: Value = erased.json().await.expect("json");
    assert_eq!(erased["already_erased"], false, "{erased}");
    assert_eq!(
        erased["messages_erased"], 2,
        "seq 4 had no body left: {erased}"
    );
    assert!(erased["account"]["erased_at"].is_string(), "{erased}");
    let again: Value = erase(&app, &admin, &person, asked)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["already_erased"], true, "{again}");
    assert_eq!(again["messages_erased"], 0, "{again}");

    // Signed out everywhere: the open stream ends, no token or password works.
    let (ended, _) = stream.next_named("reauthenticate").await;
    assert_eq!(ended["reason"], "revoked");
    assert!(stream.ended().await, "the stream ends after reauthenticate");
    let closed = loop {
        let message = ws_next(&mut socket).await;
        if let Some(code) = message.get("close") {
            break code.clone();
        }
    };
    assert_eq!(closed, 4403, "the WebSocket closes as for a revoked token");
    assert_problem(
        app.get_as("/v1/me", Some(&token)).await,
        401,
        "unauthenticated",
    )
    .await;
    let refresh = app
        .post_json(
            "/v1/auth/refresh",
            &json!({ "refresh_token": pair["refresh_token"] }),
            None,
        )
        .await;
    assert_problem(refresh, 401, "unauthenticated").await;
    let login = app
        .post_json(
            "/v1/auth/login",
            &json!({ "email": email, "password": password }),
            None,
        )
        .await;
    assert_problem(login, 401, "unauthenticated").await;

    // No trace in any text column of any table.
    for needle in [email.as_str(), name.as_str(), canary.as_str()] {
        assert_eq!(
            traces_of(&app.storage.db, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }

    // The therapist's history keeps every seq; the person's are tombstones.
    let history: Value = app
        .get_as(&window, Some(&therapist_token))
        .await
        .json()
        .await
        .expect("json");
    let items = history["items"].as_array().expect("items");
    let seqs: Vec<(i64, bool)> = items
        .iter()
        .map(|m| (m["seq"].as_i64().expect("a seq"), m["body"].is_null()))
        .collect();
    assert_eq!(seqs, [(1, true), (2, true), (3, false), (4, true)]);
    assert!(
        items
            .iter()
            .all(|m| m["body"].is_null() || m["body"] == "hello")
    );
    let listed: Value = app
        .get_as(
            &format!("/v1/conversations/{conversation}"),
            Some(&therapist_token),
        )
        .await
        .json()
        .await
        .expect("json");
    let member = listed["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["account_id"] == person.as_str())
        .expect("still a member");
    assert!(
        member["display_name"]
            .as_str()
            .expect("a name")
            .starts_with("Erased account"),
        "{member}"
    );

    // The logs stay, about the pseudonym: the therapist's read, the erasure itself,
    // and the audit entries with their reasons.
    let log: Value = app
        .get_as(
            &format!("/v1/admin/access-log?client={person}"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .expect("json");
    let purposes: Vec<&str> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["purpose"].as_str().expect("a purpose"))
        .collect();
    assert!(
        purposes.contains(&"care") && purposes.contains(&"erasure"),
        "{log}"
    );
    let audit: Value = app
        .get_as("/v1/admin/audit", Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    let erase_entry = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "account.erase")
        .unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(erase_entry["reason"], "the person asked");
    assert_eq!(erase_entry["target_id"], person.as_str());
}
on_every_backend!(erasure_leaves_no_trace_and_keeps_the_others_history_whole);

async fn an_erased_therapist_leaves_the_directory(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.token_for(Role::Admin).await;
    let mark = uuid::Uuid::new_v4().simple().to_string();
    let (name, bio) = (format!("Dr. {mark}"), format!("bio-{mark}"));
    let created = app
        .post_json(
            "/v1/admin/therapists",
            &json!({
                "email": format!("t-{mark}@example.org"), "password": "initial password 1",
                "display_name": name, "bio": bio, "specialties": ["anxiety"],
                "languages": ["en"], "city": "Utrecht", "country": "nl",
                "accepting": "accepting", "offers_online": true, "offers_in_person": false
            }),
            Some(&admin),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let account = created["account"]["id"].as_str().expect("an id");
    let profile = format!(
        "/v1/therapists/{}",
        created["therapist"]["id"].as_str().expect("an id")
    );
    assert_eq!(app.get_as(&profile, Some(&admin)).await.status(), 200);

    let erased = erase(
        &app,
        &admin,
        account,
        json!({ "reason": "left the practice" }),
    )
    .await;
    assert_eq!(erased.status(), 200);
    let erased: Value = erased.json().await.expect("json");
    assert!(erased["account"]["therapist_id"].is_null(), "{erased}");
    assert_problem(app.get_as(&profile, Some(&admin)).await, 404, "not_found").await;
    for needle in [name.as_str(), bio.as_str(), mark.as_str()] {
        assert_eq!(
            traces_of(&app.storage.db, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }
}
on_every_backend!(an_erased_therapist_leaves_the_directory);
