//! Chat: history windows that load incrementally, idempotent sending, seqs with no
//! gap or repeat under concurrency, tombstones, read markers and membership.

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

async fn history_walks_back_window_by_window_to_the_first_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 5_000).await;

    let newest = window(&app, &pair, "limit=100").await;
    assert_eq!(seqs(&newest), (4_901..=5_000).collect::<Vec<_>>());
    assert_eq!(
        (newest["has_older"].clone(), newest["has_newer"].clone()),
        (json!(true), json!(false))
    );

    let mut walked: Vec<i64> = seqs(&newest);
    let mut current = newest;
    while current["has_older"] == true {
        let oldest = seqs(&current)[0];
        current = window(&app, &pair, &format!("limit=100&before={oldest}")).await;
        let mut older = seqs(&current);
        older.extend(walked);
        walked = older;
    }
    assert_eq!(
        walked,
        (1..=5_000).collect::<Vec<_>>(),
        "every seq once, in order"
    );

    for (around, expected, older, newer) in [
        (
            "around=1&older=3&newer=4",
            (1..=5).collect::<Vec<_>>(),
            false,
            true,
        ),
        (
            "around=2500&older=3&newer=4",
            (2_497..=2_504).collect(),
            true,
            true,
        ),
        (
            "around=5000&older=3&newer=4",
            (4_997..=5_000).collect(),
            true,
            false,
        ),
        ("around=2500&limit=9", (2_496..=2_504).collect(), true, true),
    ] {
        let w = window(&app, &pair, around).await;
        assert_eq!(seqs(&w), expected, "{around}");
        assert_eq!(w["has_older"], older, "{around}");
        assert_eq!(w["has_newer"], newer, "{around}");
    }
    assert_problem(
        app.get_as(
            &format!(
                "/v1/conversations/{}/messages?around=5001",
                pair.conversation
            ),
            Some(&pair.client_token),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}
on_every_backend!(history_walks_back_window_by_window_to_the_first_message);

async fn extending_a_window_by_its_edges_stays_contiguous_while_messages_arrive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 300).await;

    let middle = window(&app, &pair, "around=150&older=10&newer=10").await;
    let mut seen = seqs(&middle);
    let mut newest_edge = *seen.last().expect("a message");
    let mut rounds = 0;
    loop {
        // New messages keep arriving while the client reads forward.
        for i in 0..3 {
            let key = format!("live-{rounds}-{i}");
            let response = send(
                &app,
                &pair.conversation,
                &pair.therapist_token,
                &key,
                "still there?",
            )
            .await;
            assert_eq!(response.status(), 201);
        }
        let next = window(&app, &pair, &format!("limit=40&after={newest_edge}")).await;
        let got = seqs(&next);
        assert_eq!(
            got.first().copied(),
            Some(newest_edge + 1),
            "no gap at the edge"
        );
        seen.extend(&got);
        newest_edge = *got.last().expect("a message");
        rounds += 1;
        if next["has_newer"] == false {
            break;
        }
        assert!(rounds < 50);
    }
    let older = window(&app, &pair, &format!("limit=100&before={}", seen[0])).await;
    let mut all = seqs(&older);
    all.extend(seen);
    let total = 300 + 3 * rounds;
    assert_eq!(all, (40..=total).collect::<Vec<_>>());
}
on_every_backend!(extending_a_window_by_its_edges_stays_contiguous_while_messages_arrive);

async fn concurrent_senders_get_seqs_with_no_gap_or_repeat(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let therapist = app.create_account(Role::Therapist).await;
    let therapist_token = app.login(&therapist).await;
    let mut senders = vec![therapist_token.clone()];
    let mut member_ids = Vec::new();
    for _ in 0..7 {
        let client = app.create_account(Role::Client).await;
        member_ids.push(client.id);
        senders.push(app.login(&client).await);
    }
    let response = app
        .post_json(
            "/v1/conversations",
            &json!({ "member_ids": member_ids }),
            Some(&therapist_token),
        )
        .await;
    assert_eq!(response.status(), 201);
    let conversation: Value = response.json().await.expect("json");
    let id = conversation["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        conversation["members"].as_array().expect("members").len(),
        8
    );

    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(n, token)| {
            let (http, address, id) = (app.http.clone(), app.address.clone(), id.clone());
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..200 {
                    let response = http
                        .post(format!("{address}/v1/conversations/{id}/messages"))
                        .bearer_auth(&token)
                        .json(&json!({ "body": format!("sender {n} message {i}"), "client_msg_id": format!("{n}-{i}") }))
                        .send()
                        .await
                        .expect("answered");
                    assert_eq!(response.status(), 201);
                    let message: Value = response.json().await.expect("json");
                    seqs.push(message["seq"].as_i64().expect("a seq"));
                }
                seqs
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        let seqs = task.await.expect("a sender");
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "one sender's seqs rise"
        );
        all.extend(seqs);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=1_600).collect::<Vec<_>>());
}
on_every_backend!(concurrent_senders_get_seqs_with_no_gap_or_repeat);

async fn sending_is_idempotent_even_when_retries_race(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 3).await;

    let first = send(&app, &pair.conversation, &pair.client_token, "k-1", "hello").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    let retry = send(&app, &pair.conversation, &pair.client_token, "k-1", "hello").await;
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.json::<Value>().await.expect("json"), first);
    assert_problem(
        send(
            &app,
            &pair.conversation,
            &pair.client_token,
            "k-1",
            "something else",
        )
        .await,
        422,
        "idempotency_key_reused",
    )
    .await;
    // The same key from another sender is another message.
    let other = send(
        &app,
        &pair.conversation,
        &pair.therapist_token,
        "k-1",
        "hello",
    )
    .await;
    assert_eq!(other.status(), 201);

    let racers: Vec<_> = (0..10)
        .map(|_| {
            let (http, address, conversation, token) = (
                app.http.clone(),
                app.address.clone(),
                pair.conversation.clone(),
                pair.client_token.clone(),
            );
            tokio::spawn(async move {
                let response = http
                    .post(format!(
                        "{address}/v1/conversations/{conversation}/messages"
                    ))
                    .bearer_auth(token)
                    .json(&json!({ "body": "raced", "client_msg_id": "race-1" }))
                    .send()
                    .await
                    .expect("answered");
                let status = response.status().as_u16();
                let message: Value = response.json().await.expect("json");
                (status, message["seq"].as_i64().expect("a seq"))
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for racer in racers {
        outcomes.push(racer.await.expect("a racer"));
    }
    let created = outcomes.iter().filter(|(status, _)| *status == 201).count();
    let raced: HashSet<i64> = outcomes.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(created, 1, "{outcomes:?}");
    assert_eq!(raced.len(), 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|(status, _)| *status == 200 || *status == 201)
    );

    let latest = window(&app, &pair, "limit=100").await;
    assert_eq!(
        seqs(&latest),
        (1..=6).collect::<Vec<_>>(),
        "no duplicate was stored"
    );
}
on_every_backend!(sending_is_idempotent_even_when_retries_race);

async fn edits_show_the_latest_body_and_deletions_leave_tombstones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 4).await;
    let path = |seq: i64| {
        format!(
            "{}/v1/conversations/{}/messages/{seq}",
            app.address, pair.conversation
        )
    };
    // Seed messages alternate senders: odd seqs are the client's, even the therapist's.
    let edited = app
        .http
        .patch(path(1))
        .bearer_auth(&pair.client_token)
        .json(&json!({ "body": "corrected text" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(edited.status(), 200);
    let deleted = app
        .http
        .delete(path(3))
        .bearer_auth(&pair.client_token)
        .send()
        .await
        .expect("answered");
    assert_eq!(deleted.status(), 204);
    let not_mine = app
        .http
        .delete(path(2))
        .bearer_auth(&pair.client_token)
        .send()
        .await
        .expect("answered");
    assert_problem(not_mine, 403, "forbidden").await;
    let edit_tombstone = app
        .http
        .patch(path(3))
        .bearer_auth(&pair.client_token)
        .json(&json!({ "body": "resurrect" }))
        .send()
        .await
        .expect("answered");
    assert_problem(edit_tombstone, 409, "conflict").await;

    let history = window(&app, &pair, "limit=10").await;
    assert_eq!(seqs(&history), [1, 2, 3, 4]);
    let items = history["items"].as_array().expect("items");
    assert_eq!(items[0]["body"], "corrected text");
    assert!(items[0]["edited_at"].is_string());
    assert_eq!(items[2]["deleted"], true);
    assert_eq!(items[2]["body"], Value::Null);
    assert_eq!(items[2]["sender_id"], pair.client.id.to_string());
    assert!(items[2]["created_at"].is_string());
}
on_every_backend!(edits_show_the_latest_body_and_deletions_leave_tombstones);

async fn unread_counts_follow_read_markers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 0).await;
    for i in 0..5 {
        send(
            &app,
            &pair.conversation,
            &pair.therapist_token,
            &format!("t{i}"),
            "news",
        )
        .await;
    }
    let unread = |token: String| {
        let app = &app;
        async move {
            let page: Value = app
                .get_as("/v1/conversations", Some(&token))
                .await
                .json()
                .await
                .expect("json");
            (
                page["items"][0]["unread_count"].clone(),
                page["items"][0]["last_message"]["body"].clone(),
            )
        }
    };
    assert_eq!(
        unread(pair.client_token.clone()).await,
        (json!(5), json!("news"))
    );
    assert_eq!(
        unread(pair.therapist_token.clone()).await.0,
        json!(0),
        "own messages are read"
    );

    let read = |seq: i64| {
        let app = &app;
        let pair = &pair;
        async move {
            let response = app
                .post_json(
                    &format!("/v1/conversations/{}/read", pair.conversation),
                    &json!({ "seq": seq }),
                    Some(&pair.client_token),
                )
                .await;
            response.json::<Value>().await.expect("json")["last_read_seq"].clone()
        }
    };
    assert_eq!(read(3).await, json!(3));
    assert_eq!(unread(pair.client_token.clone()).await.0, json!(2));
    assert_eq!(
        read(1).await,
        json!(3),
        "a lower seq does not move the marker back"
    );
    assert_eq!(unread(pair.client_token.clone()).await.0, json!(2));
    assert_eq!(
        read(99).await,
        json!(5),
        "past the end clamps to the newest"
    );
    assert_eq!(unread(pair.client_token.clone()).await.0, json!(0));
}
on_every_backend!(unread_counts_follow_read_markers);

async fn only_members_read_or_write_and_support_sees_metadata_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 10).await;
    let stranger = app.token.clone(); // the default client is not a member
    let stranger = stranger.as_str();
    let support = app.token_for(Role::Support).await;
    let id = &pair.conversation;

    for path in [
        format!("/v1/conversations/{id}"),
        format!("/v1/conversations/{id}/messages"),
    ] {
        assert_problem(app.get_as(&path, Some(stranger)).await, 404, "not_found").await;
    }
    assert_problem(
        send(&app, id, stranger, "x", "let me in").await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_as(
            &format!("/v1/conversations/{}", Uuid::now_v7()),
            Some(&pair.client_token),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    let meta: Value = app
        .get_as(&format!("/v1/conversations/{id}"), Some(&support))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(meta["message_count"], 10);
    assert_eq!(meta["members"].as_array().expect("members").len(), 2);
    assert_eq!(
        meta["last_message"]["body"],
        Value::Null,
        "support never sees a body"
    );
    assert_eq!(meta["last_message"]["seq"], 10);
    assert_problem(
        app.get_as(&format!("/v1/conversations/{id}/messages"), Some(&support))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        send(&app, id, &support, "x", "hello").await,
        403,
        "forbidden",
    )
    .await;

    let query = "query($id: UUID!) { conversation(id: $id) { messageCount messages(last: 2) { edges { node { seq body } } } } }";
    let body = app
        .graphql_as(query, json!({ "id": id }), Some(stranger))
        .await;
    assert_eq!(body["data"]["conversation"], Value::Null, "{body}");
    let body = app
        .graphql_as(query, json!({ "id": id }), Some(&support))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "forbidden",
        "{body}"
    );
    let body = app
        .graphql_as(query, json!({ "id": id }), Some(&pair.client_token))
        .await;
    assert_eq!(
        body["data"]["conversation"]["messages"]["edges"][1]["node"]["seq"], 10,
        "{body}"
    );

    // Clients cannot start conversations; support starts one without joining it.
    assert_problem(
        app.post_json(
            "/v1/conversations",
            &json!({ "member_ids": [pair.therapist.id] }),
            Some(&pair.client_token),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let started = app
        .post_json(
            "/v1/conversations",
            &json!({ "member_ids": [pair.therapist.id, pair.client.id] }),
            Some(&support),
        )
        .await;
    assert_eq!(started.status(), 201);
    let started: Value = started.json().await.expect("json");
    assert_eq!(started["members"].as_array().expect("members").len(), 2);
    assert_eq!(started["unread_count"], Value::Null);
}
on_every_backend!(only_members_read_or_write_and_support_sees_metadata_only);

async fn graphql_pages_history_both_ways_with_exact_flags(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 23).await;
    let query = r#"query($id: UUID!, $first: Int, $after: String, $last: Int, $before: String) {
      conversation(id: $id) { messages(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { seq } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"#;
    let page = |vars: Value| {
        let app = &app;
        let token = pair.client_token.clone();
        async move {
            let body = app.graphql_as(query, vars, Some(&token)).await;
            assert!(body["errors"].is_null(), "{body}");
            body["data"]["conversation"]["messages"].clone()
        }
    };
    let edge_seqs = |c: &Value| -> Vec<i64> {
        c["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["seq"].as_i64().expect("seq"))
            .collect()
    };

    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let c = page(json!({ "id": pair.conversation, "first": 5, "after": after })).await;
        forward.extend(edge_seqs(&c));
        assert_eq!(c["pageInfo"]["hasPreviousPage"], !after.is_null());
        if c["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(forward, (1..=23).collect::<Vec<_>>());

    let mut backward = Vec::new();
    let mut before = Value::Null;
    loop {
        let c = page(json!({ "id": pair.conversation, "last": 5, "before": before })).await;
        let mut got = edge_seqs(&c);
        got.extend(backward);
        backward = got;
        if c["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = c["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(backward, (1..=23).collect::<Vec<_>>());

    let around = app
        .graphql_as(
            "query($id: UUID!) { conversation(id: $id) { messagesAround(seq: 12, older: 2, newer: 1) { items { seq } hasOlder hasNewer } } }",
            json!({ "id": pair.conversation }),
            Some(&pair.client_token),
        )
        .await;
    assert_eq!(
        around["data"]["conversation"]["messagesAround"],
        json!({ "items": [{ "seq": 10 }, { "seq": 11 }, { "seq": 12 }, { "seq": 13 }], "hasOlder": true, "hasNewer": true })
    );

    let sent = app
        .graphql_as(
            "mutation($id: UUID!) { sendMessage(conversationId: $id, clientMsgId: \"g-1\", body: \"via graphql\") { created message { seq body } } }",
            json!({ "id": pair.conversation }),
            Some(&pair.client_token),
        )
        .await;
    assert_eq!(
        sent["data"]["sendMessage"],
        json!({ "created": true, "message": { "seq": 24, "body": "via graphql" } })
    );
}
on_every_backend!(graphql_pages_history_both_ways_with_exact_flags);

async fn bad_window_input_is_a_400_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 5).await;
    let get = |query: &'static str| {
        let app = &app;
        let pair = &pair;
        async move {
            app.get_as(
                &format!("/v1/conversations/{}/messages?{query}", pair.conversation),
                Some(&pair.client_token),
            )
            .await
        }
    };
    for query in [
        "before=3&after=1",
        "around=2&before=3",
        "before=-1",
        "after=-2",
        "limit=0",
        "limit=101",
        "older=2",
    ] {
        assert_problem(get(query).await, 400, "invalid_parameter").await;
    }
    for query in ["before=abc", "limit=x"] {
        assert_problem(get(query).await, 400, "invalid_parameter").await;
    }
    assert_problem(
        send(&app, &pair.conversation, &pair.client_token, "k", "   ").await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        send(
            &app,
            &pair.conversation,
            &pair.client_token,
            "k",
            &"x".repeat(10_001),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let body = app
        .graphql_as(
            "query($id: UUID!) { conversation(id: $id) { messages(first: 1, last: 1) { edges { cursor } } } }",
            json!({ "id": pair.conversation }),
            Some(&pair.client_token),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "invalid_parameter",
        "{body}"
    );
}
on_every_backend!(bad_window_input_is_a_400_problem);

async fn a_window_costs_the_same_statements_whatever_the_history_length(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let short = pair_with_history(&app, 10).await;
    let long = pair_with_history(&app, 3_000).await;

    let cost = |pair: &Pair, query: &'static str| {
        let app = &app;
        let token = pair.client_token.clone();
        let path = format!("/v1/conversations/{}/messages?{query}", pair.conversation);
        async move {
            app.get_as("/v1/me", Some(&token)).await; // refresh the cached account status
            let before = app.statements.total();
            assert_eq!(app.get_as(&path, Some(&token)).await.status(), 200);
            app.statements.total() - before
        }
    };
    for query in ["limit=5", "limit=5&before=4", "limit=5&around=5"] {
        let (a, b) = (cost(&short, query).await, cost(&long, query).await);
        assert_eq!(
            a, b,
            "{query}: the same statements for 10 and 3,000 messages"
        );
        assert!(a <= 3, "{query}: {a} statements");
    }
    let deep = cost(&long, "limit=5&before=20").await;
    assert_eq!(
        deep,
        cost(&long, "limit=5").await,
        "deep in history costs what the newest window costs"
    );
}
on_every_backend!(a_window_costs_the_same_statements_whatever_the_history_length);
