//! Who may read and write a conversation: members only; support sees metadata, never a body.

use super::*;

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
