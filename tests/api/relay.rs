//! Relay object identification, as a normalising cache (Apollo, Relay) uses it: every
//! type with an id implements `Node`, and `node(id:)` refetches each under the rules
//! of the field that gave it; what the caller may not see is null with `not_found`.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::realtime::chat;
use domain::actor::Role;

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id } }";

/// `node(id)` as `token`: the typename, or the error code.
async fn refetch(app: &TestApp, id: &Value, token: &str) -> Result<String, String> {
    let body = app.graphql_as(NODE, json!({ "id": id }), Some(token)).await;
    match body["data"]["node"]["__typename"].as_str() {
        Some(typename) => {
            assert_eq!(&body["data"]["node"]["id"], id, "the same id comes back");
            assert!(body["errors"].is_null(), "{body}");
            Ok(typename.to_owned())
        }
        None => {
            assert!(body["data"]["node"].is_null(), "{body}");
            Err(body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or_else(|| panic!("an error with a code: {body}"))
                .to_owned())
        }
    }
}

async fn every_cached_type_is_a_node_refetched_under_its_own_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let sent = app
        .post_json(
            &format!("/v1/conversations/{}/messages", chat.conversation),
            &json!({ "body": "hello", "client_msg_id": "relay-1" }),
            Some(&chat.client_token),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let admin = app.token_for(Role::Admin).await;
    let support = app.token_for(Role::Support).await;
    let disabled = app
        .post_json(
            &format!("/v1/admin/accounts/{}/disable", chat.therapist.id),
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(disabled.status(), 200, "an audited action");

    let possible = app
        .graphql(
            "{ __type(name: \"Node\") { possibleTypes { name } } }",
            Value::Null,
        )
        .await;
    let mut names: Vec<&str> = possible["data"]["__type"]["possibleTypes"]
        .as_array()
        .expect("possible types")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "Account",
            "AuditEntry",
            "Conversation",
            "Message",
            "Therapist"
        ]
    );

    let mine = app
        .graphql_as(
            "{ me { id uuid } conversations(first: 1) { nodes { id uuid lastMessage { id seq } } } }",
            Value::Null,
            Some(&chat.client_token),
        )
        .await;
    let conversation = &mine["data"]["conversations"]["nodes"][0];
    assert_eq!(conversation["uuid"], chat.conversation.as_str(), "{mine}");
    let (me, conversation_id) = (&mine["data"]["me"]["id"], &conversation["id"]);
    let message = &conversation["lastMessage"]["id"];
    assert_eq!(mine["data"]["me"]["uuid"], chat.client.id.to_string());
    let client = chat.client_token.as_str();
    assert_eq!(refetch(&app, me, client).await, Ok("Account".into()));
    assert_eq!(
        refetch(&app, conversation_id, client).await,
        Ok("Conversation".into())
    );
    assert_eq!(refetch(&app, message, client).await, Ok("Message".into()));

    // Someone else's: not a member, not staff.
    let stranger = app.token.as_str();
    for id in [me, conversation_id, message] {
        assert_eq!(refetch(&app, id, stranger).await, Err("not_found".into()));
    }
    // Staff see other accounts; only admins the audit log.
    assert_eq!(refetch(&app, me, &support).await, Ok("Account".into()));
    let log = app
        .graphql_as(
            "{ auditEntries(first: 1) { nodes { id action } } }",
            Value::Null,
            Some(&admin),
        )
        .await;
    let entry = &log["data"]["auditEntries"]["nodes"][0];
    assert_eq!(entry["action"], "account.disable", "{log}");
    assert_eq!(
        refetch(&app, &entry["id"], &admin).await,
        Ok("AuditEntry".into())
    );
    assert_eq!(
        refetch(&app, &entry["id"], &support).await,
        Err("not_found".into())
    );

    // Not a global id at all.
    assert_eq!(
        refetch(&app, &json!("not-a-global-id"), client).await,
        Err("invalid_parameter".into())
    );
}
on_every_backend!(every_cached_type_is_a_node_refetched_under_its_own_rules);
