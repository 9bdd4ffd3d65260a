//! Sending, editing and reading: seqs with no gap, idempotent retries, revisions and tombstones, unread counts.

use super::*;

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
