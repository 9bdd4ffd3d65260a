//! Limits against abuse: body size, GraphQL depth, complexity, aliases and batch size.
//! Every refusal names itself with a `code`.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem};

/// The `code` extension of the first GraphQL error in `response`.
fn first_error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("an error with a code: {response}"))
}

async fn an_oversize_json_body_is_a_413_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = uuid::Uuid::now_v7();
    let body = json!({ "body": "x".repeat(100 * 1024), "client_msg_id": "big" });

    let rest = app
        .post_json(
            &format!("/v1/conversations/{id}/messages"),
            &body,
            Some(&app.token),
        )
        .await;
    assert_problem(rest, 413, "body_too_large").await;

    let graphql = app
        .post_json(
            "/graphql",
            &json!({ "query": format!("{{ __typename }} # {}", "x".repeat(100 * 1024)) }),
            None,
        )
        .await;
    assert_problem(graphql, 413, "body_too_large").await;
}
on_every_backend!(an_oversize_json_body_is_a_413_problem);

async fn graphql_refuses_deep_complex_and_malformed_queries_with_codes(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(12),
        "} ".repeat(12)
    );
    let response = app.graphql(&deep, json!({})).await;
    assert_eq!(first_error_code(&response), "query_too_deep", "{response}");
    assert!(response["data"].is_null(), "{response}");

    // Each `me { id }` weighs 2; repeated fields are not merged before counting.
    let complex = format!("{{ {} }}", "me { id } ".repeat(2_501));
    let response = app.graphql(&complex, json!({})).await;
    assert_eq!(
        first_error_code(&response),
        "query_too_complex",
        "{response}"
    );

    let response = app.graphql("{ therapists(first: 1) { ", json!({})).await;
    assert_eq!(first_error_code(&response), "invalid_query", "{response}");

    let response = app.graphql("{ noSuchField }", json!({})).await;
    assert_eq!(first_error_code(&response), "invalid_query", "{response}");
}
on_every_backend!(graphql_refuses_deep_complex_and_malformed_queries_with_codes);

async fn graphql_allows_30_aliases_and_refuses_31(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let aliased = |count: usize| {
        let fields: Vec<String> = (0..count).map(|i| format!("a{i}: __typename")).collect();
        format!("{{ {} }}", fields.join(" "))
    };

    let allowed = app.graphql(&aliased(30), json!({})).await;
    assert!(allowed["errors"].is_null(), "{allowed}");
    assert_eq!(allowed["data"]["a29"], "QueryRoot");

    let refused = app.graphql(&aliased(31), json!({})).await;
    assert_eq!(first_error_code(&refused), "too_many_aliases", "{refused}");
    assert!(refused["data"].is_null(), "{refused}");

    // Aliases inside fragments count too.
    let in_fragment = format!(
        "query {{ ...f }} fragment f on QueryRoot {{ {} }}",
        (0..31)
            .map(|i| format!("a{i}: __typename"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let refused = app.graphql(&in_fragment, json!({})).await;
    assert_eq!(first_error_code(&refused), "too_many_aliases", "{refused}");
}
on_every_backend!(graphql_allows_30_aliases_and_refuses_31);

async fn graphql_runs_batches_of_up_to_10_and_refuses_11(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let batch = |count: usize| {
        Value::Array(
            (0..count)
                .map(|_| json!({ "query": "{ __typename }" }))
                .collect(),
        )
    };

    let response = app.post_json("/graphql", &batch(10), None).await;
    assert_eq!(response.status(), 200);
    let answers: Value = response.json().await.expect("a JSON body");
    assert_eq!(answers.as_array().map(Vec::len), Some(10), "{answers}");
    assert_eq!(answers[9]["data"]["__typename"], "QueryRoot");

    let response = app.post_json("/graphql", &batch(11), None).await;
    let refused: Value = response.json().await.expect("a JSON body");
    assert_eq!(first_error_code(&refused), "batch_too_large", "{refused}");

    let response = app.post_json("/graphql", &json!([]), None).await;
    let refused: Value = response.json().await.expect("a JSON body");
    assert_eq!(first_error_code(&refused), "invalid_query", "{refused}");
}
on_every_backend!(graphql_runs_batches_of_up_to_10_and_refuses_11);

async fn a_graphql_body_that_is_not_json_is_a_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .expect("answered");
    assert_problem(response, 400, "malformed_body").await;

    let response = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("content-type", "text/plain")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .expect("answered");
    assert_problem(response, 415, "unsupported_media_type").await;
}
on_every_backend!(a_graphql_body_that_is_not_json_is_a_problem);
