//! A GraphQL chat screen: `conversation(id) { messages }` reads the conversation's own
//! row and its history with one membership check, and answers what the full read and
//! the REST window answer.

use super::*;
use crate::conversing;

const HISTORY_FIELDS: &str = "id uuid createdBy createdAt lastActivityAt messageCount
    messages(last: 3) {
        pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
        nodes { id seq senderId clientMsgId body createdAt editedAt deleted }
    }";

async fn conversation(app: &TestApp, pair: &Pair, fields: &str) -> Value {
    let query = format!("query($id: UUID!) {{ conversation(id: $id) {{ {fields} }} }}");
    let body = app
        .graphql_as(
            &query,
            json!({ "id": pair.conversation }),
            Some(&pair.client_token),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["conversation"].clone()
}

async fn a_history_read_answers_what_the_full_read_and_rest_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 6).await;
    // An edited message and a tombstone among the three newest (odd seqs are the
    // client's).
    let (client, therapist) = (&pair.client_token, &pair.therapist_token);
    let conversation_id = &pair.conversation;
    assert_eq!(
        conversing::edit(&app, client, conversation_id, 5, "corrected").await,
        200
    );
    assert_eq!(
        conversing::delete(&app, therapist, conversation_id, 4).await,
        204
    );

    let head = conversation(&app, &pair, HISTORY_FIELDS).await;
    let full = conversation(
        &app,
        &pair,
        &format!("{HISTORY_FIELDS} members {{ accountId }}"),
    )
    .await;
    let mut without_members = full.as_object().expect("an object").clone();
    without_members.remove("members");
    assert_eq!(
        head,
        Value::Object(without_members),
        "the same answer by either read"
    );
    assert_eq!(head["messageCount"], 6);

    let rest = window(&app, &pair, "limit=3").await;
    let nodes = head["messages"]["nodes"].as_array().expect("nodes");
    let items = rest["items"].as_array().expect("items");
    assert_eq!(nodes.len(), 3);
    for (node, item) in nodes.iter().zip(items) {
        assert_eq!(node["seq"], item["seq"]);
        assert_eq!(node["senderId"], item["sender_id"]);
        assert_eq!(node["clientMsgId"], item["client_msg_id"]);
        assert_eq!(node["body"], item["body"]);
        assert_eq!(node["deleted"], item["deleted"]);
        assert_eq!(node["editedAt"].is_null(), item["edited_at"].is_null());
    }
    assert_eq!(nodes[0]["deleted"], true);
    assert_eq!(nodes[0]["body"], Value::Null);
    assert_eq!(nodes[1]["body"], "corrected");
    assert!(nodes[1]["editedAt"].is_string());
    assert_eq!(head["messages"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(head["messages"]["pageInfo"]["hasNextPage"], false);
}
on_every_backend!(a_history_read_answers_what_the_full_read_and_rest_answer);

async fn summary_fields_asked_through_a_fragment_are_answered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 4).await;
    let query = "query($id: UUID!) { conversation(id: $id) { ...Summary messages(last: 1) { nodes { seq } } } }
         fragment Summary on Conversation { unreadCount lastMessage { seq } members { accountId } }";
    let body = app
        .graphql_as(
            query,
            json!({ "id": pair.conversation }),
            Some(&pair.client_token),
        )
        .await;
    let conversation = &body["data"]["conversation"];
    let rest: Value = app
        .get_as(
            &format!("/v1/conversations/{}", pair.conversation),
            Some(&pair.client_token),
        )
        .await
        .json()
        .await
        .expect("json");
    assert!(rest["unread_count"].is_i64(), "{rest}");
    assert_eq!(conversation["unreadCount"], rest["unread_count"], "{body}");
    assert_eq!(conversation["lastMessage"]["seq"], 4, "{body}");
    assert_eq!(
        conversation["members"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
    assert_eq!(conversation["messages"]["nodes"][0]["seq"], 4, "{body}");
}
on_every_backend!(summary_fields_asked_through_a_fragment_are_answered);

async fn a_graphql_history_read_costs_what_a_rest_window_costs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pair = pair_with_history(&app, 20).await;
    let token = pair.client_token.clone();
    // The account status and the conversation's client members are read once and
    // kept: not part of a window's cost.
    app.get_as("/v1/me", Some(&token)).await;
    window(&app, &pair, "limit=5").await;

    app.get_as("/v1/me", Some(&token)).await;
    let before = app.statements.total();
    window(&app, &pair, "limit=5").await;
    let rest = app.statements.total() - before;

    app.get_as("/v1/me", Some(&token)).await;
    let before = app.statements.total();
    let read = conversation(&app, &pair, "messages(last: 5) { nodes { seq body } }").await;
    let graphql = app.statements.total() - before;
    assert_eq!(read["messages"]["nodes"][4]["seq"], 20);
    assert_eq!(rest, 1, "admission and the seq range in one statement");
    assert_eq!(graphql, rest, "the row and its history in one statement");
}
on_every_backend!(a_graphql_history_read_costs_what_a_rest_window_costs);
