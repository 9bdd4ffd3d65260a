//! Catch-up sync: a client that was away gets every change in one call, in order,
//! each with what it needs to apply it; pages through with `limited`; and never
//! learns of a change below a position it has already passed, under concurrency.

use std::collections::BTreeSet;

use domain::actor::Role;
use serde_json::{Value, json};

use crate::conversing::{self, send, set_muted};
use crate::helpers::{Backend, TestApp, assert_problem};

/// `GET /v1/sync` as `token`, with `query`.
async fn sync(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app.get_as(&format!("/v1/sync?{query}"), Some(token)).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.expect("json")
}

fn since(token: &Value) -> String {
    format!("since={}", token["next"].as_str().expect("a next token"))
}

fn positions(answer: &Value) -> Vec<i64> {
    answer["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|change| change["position"].as_i64().expect("a position"))
        .collect()
}

async fn a_client_that_was_away_learns_every_change_in_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let therapist = app.create_account(Role::Therapist).await;
    let client = app.create_account(Role::Client).await;
    let (therapist_token, client_token) = (app.login(&therapist).await, app.login(&client).await);
    let start = sync(&app, &client_token, "").await;
    assert_eq!(start["changes"], json!([]), "no since: the position alone");
    assert_eq!(start["limited"], false);

    // While the client is away: a conversation, two messages, an edit, a deletion,
    // the client's read marker (from another device) and its mute switch.
    let conversation = conversing::start(&app, &therapist_token, client.id).await;
    send(&app, &therapist_token, &conversation, "first").await;
    send(&app, &therapist_token, &conversation, "second").await;
    let edited = conversing::edit(&app, &therapist_token, &conversation, 1, "first, corrected");
    assert_eq!(edited.await, 200);
    assert_eq!(
        conversing::delete(&app, &therapist_token, &conversation, 2).await,
        204
    );
    assert_eq!(
        conversing::read(&app, &client_token, &conversation, 2).await,
        200
    );
    let muted = set_muted(&app, &client_token, &conversation, true).await;
    assert_eq!(muted.status(), 200);

    let caught_up = sync(&app, &client_token, &since(&start)).await;
    assert_eq!(caught_up["limited"], false);
    let changes = caught_up["changes"].as_array().expect("changes");
    let kinds: Vec<&str> = changes
        .iter()
        .map(|c| c["kind"].as_str().expect("a kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "conversation",
            "message",
            "message",
            "message",
            "message",
            "read_marker",
            "notifications"
        ],
        "{caught_up}"
    );
    let seen = positions(&caught_up);
    assert!(
        seen.windows(2).all(|pair| pair[0] < pair[1]),
        "in order: {seen:?}"
    );
    assert!(
        changes
            .iter()
            .all(|c| c["conversation_id"] == conversation.as_str())
    );
    // Each as it is now: the row as the list shows it, the edit, the tombstone.
    assert_eq!(changes[0]["conversation"]["id"], conversation.as_str());
    assert_eq!(
        changes[0]["conversation"]["unread_count"], 0,
        "read up to 2"
    );
    assert_eq!(changes[1]["message"]["seq"], 1);
    assert_eq!(changes[1]["message"]["body"], "first, corrected");
    assert_eq!(changes[2]["message"]["seq"], 2);
    assert_eq!(changes[2]["message"]["deleted"], true);
    assert_eq!(changes[2]["message"]["body"], Value::Null);
    assert_eq!(changes[5]["account_id"], client.id.to_string());
    assert_eq!(changes[5]["seq"], 2);
    assert_eq!(changes[6]["muted"], true);

    // Applying the changes to an empty copy gives what history shows.
    let mut copy = std::collections::BTreeMap::new();
    for change in changes.iter().filter(|c| c["kind"] == "message") {
        let seq = change["message"]["seq"].as_i64().expect("a seq");
        copy.insert(seq, change["message"].clone());
    }
    let history = app
        .get_as(
            &format!("/v1/conversations/{conversation}/messages?limit=100"),
            Some(&client_token),
        )
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(
        json!(copy.into_values().collect::<Vec<_>>()),
        history["items"]
    );

    // Nothing new: no change, and the same position.
    let again = sync(&app, &client_token, &since(&caught_up)).await;
    assert_eq!(again["changes"], json!([]));
    assert_eq!(again["next"], caught_up["next"]);

    // The therapist's feed has the same messages; the client's mute is not theirs.
    let theirs = sync(&app, &therapist_token, "").await;
    assert_eq!(theirs["changes"], json!([]));
    let graphql = app
        .graphql_as(
            "query($since: String) { sync(since: $since, first: 500) { changes { position kind conversationId message { seq body deleted } accountId seq muted } next limited } }",
            json!({ "since": start["next"] }),
            Some(&client_token),
        )
        .await;
    let graphql_positions: Vec<i64> = graphql["data"]["sync"]["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("{graphql}"))
        .iter()
        .map(|c| c["position"].as_i64().expect("a position"))
        .collect();
    assert_eq!(graphql_positions, seen, "one rule for both doors");
    assert_eq!(
        graphql["data"]["sync"]["changes"][1]["message"]["body"],
        "first, corrected"
    );
    assert_eq!(
        graphql["data"]["sync"]["changes"][6]["kind"],
        "NOTIFICATIONS"
    );
}
on_every_backend!(a_client_that_was_away_learns_every_change_in_order);

async fn a_token_is_the_callers_own_and_cannot_be_forged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = crate::realtime::chat(&app).await;
    let clients = sync(&app, &chat.client_token, "").await;
    let token = clients["next"].as_str().expect("a token");

    let foreign = app
        .get_as(
            &format!("/v1/sync?since={token}"),
            Some(&chat.therapist_token),
        )
        .await;
    let problem = assert_problem(foreign, 400, "invalid_sync_token").await;
    assert!(
        problem["detail"]
            .as_str()
            .expect("a detail")
            .contains("reload"),
        "{problem}"
    );
    let forged = token.replacen("v1.", "v1.e", 1);
    for bad in [forged.as_str(), "garbage", ""] {
        let answer = app
            .get_as(&format!("/v1/sync?since={bad}"), Some(&chat.client_token))
            .await;
        assert_problem(answer, 400, "invalid_sync_token").await;
    }
    for limit in ["0", "501", "-1"] {
        let answer = app
            .get_as(&format!("/v1/sync?limit={limit}"), Some(&chat.client_token))
            .await;
        assert_problem(answer, 400, "invalid_parameter").await;
    }
    let graphql = app
        .graphql_as(
            "{ sync(since: \"garbage\") { next } }",
            json!({}),
            Some(&chat.client_token),
        )
        .await;
    assert_eq!(
        graphql["errors"][0]["extensions"]["code"], "invalid_sync_token",
        "{graphql}"
    );
    let anonymous = app.get_as("/v1/sync", None).await;
    assert_eq!(anonymous.status(), 401);
}
on_every_backend!(a_token_is_the_callers_own_and_cannot_be_forged);

/// Walks the feed from `start`, `limit` changes an answer, until `limited` is false;
/// the positions seen and how many answers it took.
async fn walk(app: &TestApp, token: &str, start: &Value, limit: u32) -> (Vec<i64>, u32) {
    let (mut walked, mut at, mut answers) = (Vec::new(), start.clone(), 0);
    loop {
        let page = sync(app, token, &format!("{}&limit={limit}", since(&at))).await;
        walked.extend(positions(&page));
        answers += 1;
        let limited = page["limited"] == true;
        at = page;
        if !limited {
            return (walked, answers);
        }
    }
}

/// Eight writers (four conversations, both members of each) send 100 messages each
/// into one client's feed while the client syncs throughout.
async fn concurrent_writers_leave_no_gap_and_a_reader_never_goes_back(backend: Backend) {
    const WRITERS: usize = 8;
    const EACH: usize = 100;
    let app = TestApp::spawn(backend).await;
    let client = app.create_account(Role::Client).await;
    let client_token = app.login(&client).await;
    let mut writers = Vec::new();
    for _ in 0..WRITERS / 2 {
        let therapist = app.create_account(Role::Therapist).await;
        let token = app.login(&therapist).await;
        let id = conversing::start(&app, &token, client.id).await;
        writers.push((token, id.clone()));
        writers.push((client_token.clone(), id));
    }
    let start = sync(&app, &client_token, "").await;

    let sending = futures_util::future::join_all(writers.iter().map(|(token, id)| {
        let app = &app;
        async move {
            for n in 0..EACH {
                send(app, token, id, &format!("message {n}")).await;
            }
        }
    }));
    let reading = async {
        let (mut seen, mut token) = (Vec::new(), start.clone());
        let until = tokio::time::Instant::now() + std::time::Duration::from_secs(240);
        while seen.len() < WRITERS * EACH && tokio::time::Instant::now() < until {
            let page = sync(&app, &client_token, &format!("{}&limit=500", since(&token))).await;
            seen.extend(positions(&page));
            token = page;
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        seen
    };
    let (_, incremental) = tokio::join!(sending, reading);

    let (whole, answers) = walk(&app, &client_token, &start, 100).await;
    assert_eq!(
        answers as usize,
        WRITERS * EACH / 100,
        "100 at a time, the last one not limited"
    );
    let first = whole[0];
    let expected: Vec<i64> = (first..first + (WRITERS * EACH) as i64).collect();
    assert_eq!(whole, expected, "no gap, no repeat, in order");
    assert_eq!(
        incremental, whole,
        "the reader never found a change below one it had passed"
    );
    let distinct: BTreeSet<i64> = incremental.iter().copied().collect();
    assert_eq!(distinct.len(), WRITERS * EACH);
}
on_every_backend!(concurrent_writers_leave_no_gap_and_a_reader_never_goes_back);

async fn a_token_older_than_retention_is_refused_not_silently_short(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = crate::realtime::chat(&app).await;
    let start = sync(&app, &chat.client_token, "").await;
    send(&app, &chat.therapist_token, &chat.conversation, "old news").await;
    let middle = sync(&app, &chat.client_token, &since(&start)).await;
    send(&app, &chat.therapist_token, &chat.conversation, "newer").await;

    // Everything recorded so far is past retention.
    let cutoff = chrono::Utc::now() + chrono::Duration::seconds(1);
    let deleted = domain::sync::compact(&app.storage.db, cutoff)
        .await
        .expect("compacted");
    assert!(deleted >= 2, "{deleted}");
    send(
        &app,
        &chat.therapist_token,
        &chat.conversation,
        "after compaction",
    )
    .await;

    for token in [&start, &middle] {
        let answer = app
            .get_as(
                &format!("/v1/sync?{}", since(token)),
                Some(&chat.client_token),
            )
            .await;
        assert_problem(answer, 400, "invalid_sync_token").await;
    }
    // A client that reloads syncs on from the position it is given.
    let fresh = sync(&app, &chat.client_token, "").await;
    send(
        &app,
        &chat.therapist_token,
        &chat.conversation,
        "live again",
    )
    .await;
    let next = sync(&app, &chat.client_token, &since(&fresh)).await;
    assert_eq!(next["changes"].as_array().expect("changes").len(), 1);
    assert_eq!(next["changes"][0]["message"]["body"], "live again");
}
on_every_backend!(a_token_older_than_retention_is_refused_not_silently_short);

async fn a_change_whose_writer_stopped_before_its_round_is_placed_by_the_sweep(backend: Backend) {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let app = TestApp::spawn(backend).await;
    let chat = crate::realtime::chat(&app).await;
    send(&app, &chat.therapist_token, &chat.conversation, "placed").await;
    let start = sync(&app, &chat.client_token, "").await;
    let conversation_id = chat.conversation.parse().expect("a uuid");
    // What a writer leaves when it stops between its commit and its round: an edit
    // of message 1, recorded for the client, with no position yet.
    let stranded = domain::sync::pending::ActiveModel {
        account_id: Set(chat.client.id),
        kind: Set("message".into()),
        conversation_id: Set(conversation_id),
        seq: Set(Some(1)),
        subject_id: Set(None),
        recorded_at: Set(chrono::Utc::now() - chrono::Duration::seconds(10)),
        ..Default::default()
    };
    domain::sync::pending::Entity::insert(stranded)
        .exec(&app.storage.db)
        .await
        .expect("inserted");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let found = loop {
        let answer = sync(&app, &chat.client_token, &since(&start)).await;
        if !answer["changes"].as_array().expect("changes").is_empty() {
            break answer;
        }
        assert!(std::time::Instant::now() < deadline, "never placed");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let changes = found["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{found}");
    assert_eq!(changes[0]["message"]["body"], "placed");
    // It took the next position, and the next send comes after it.
    let reached = sync(&app, &chat.client_token, "").await;
    send(&app, &chat.therapist_token, &chat.conversation, "after").await;
    let after = sync(&app, &chat.client_token, &since(&reached)).await;
    assert_eq!(
        positions(&after),
        vec![positions(&found)[0] + 1],
        "{found} {after}"
    );
}
on_every_backend!(a_change_whose_writer_stopped_before_its_round_is_placed_by_the_sweep);
