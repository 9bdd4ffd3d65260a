//! Apollo's automatic persisted queries on `POST /graphql`, and the store of parsed
//! documents behind them: a hash the node does not know is `PersistedQueryNotFound`,
//! a hash sent with its text is checked and kept, and a document from the store
//! passes the same limits as a freshly parsed one.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, TestApp, first_error_code};

const PAGE: &str = "query Page($first: Int) { therapists(first: $first) { nodes { uuid displayName specialties } } }";

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, address: &str, body: &Value) -> Value {
    app.http
        .post(format!("{address}/graphql"))
        .bearer_auth(&app.token)
        .json(body)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("a JSON body")
}

async fn a_hash_runs_the_document_it_was_first_sent_with(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(5).await;
    let hash = sha256_hex(PAGE);

    let unknown = post(
        &app,
        &app.address,
        &json!({ "variables": { "first": 3 }, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(first_error_code(&unknown), "PERSISTED_QUERY_NOT_FOUND");
    assert!(unknown.get("data").is_none_or(Value::is_null), "{unknown}");

    let registered = post(
        &app,
        &app.address,
        &json!({ "query": PAGE, "variables": { "first": 3 }, "extensions": persisted(&hash) }),
    )
    .await;
    let nodes = registered["data"]["therapists"]["nodes"].clone();
    assert_eq!(nodes.as_array().map(Vec::len), Some(3), "{registered}");

    for (first, expected) in [(3, 3), (2, 2)] {
        let by_hash = post(
            &app,
            &app.address,
            &json!({ "variables": { "first": first }, "extensions": persisted(&hash) }),
        )
        .await;
        let got = &by_hash["data"]["therapists"]["nodes"];
        assert_eq!(got.as_array().map(Vec::len), Some(expected), "{by_hash}");
        assert_eq!(got[0], nodes[0], "the same document, its own variables");
    }

    // Each node keeps its own store: another node asks for the text once.
    let other = app.another_node().await;
    let elsewhere = post(&app, &other, &json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(first_error_code(&elsewhere), "PERSISTED_QUERY_NOT_FOUND");
}
on_every_backend!(a_hash_runs_the_document_it_was_first_sent_with);

async fn wrong_and_malformed_hashes_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other_text = sha256_hex("{ __typename }");
    let mismatched = post(
        &app,
        &app.address,
        &json!({ "query": PAGE, "extensions": persisted(&other_text) }),
    )
    .await;
    assert_eq!(first_error_code(&mismatched), "invalid_query");
    // The mismatched text was not kept under either hash.
    let by_hash = post(
        &app,
        &app.address,
        &json!({ "extensions": persisted(&other_text) }),
    )
    .await;
    assert_eq!(first_error_code(&by_hash), "PERSISTED_QUERY_NOT_FOUND");

    for extensions in [
        json!({ "persistedQuery": { "version": 2, "sha256Hash": sha256_hex(PAGE) } }),
        json!({ "persistedQuery": { "version": 1, "sha256Hash": "not hex" } }),
        json!({ "persistedQuery": "yes" }),
    ] {
        let answer = post(
            &app,
            &app.address,
            &json!({ "query": PAGE, "extensions": extensions }),
        )
        .await;
        assert_eq!(first_error_code(&answer), "invalid_query", "{extensions}");
    }
}
on_every_backend!(wrong_and_malformed_hashes_are_refused);

async fn a_batch_answers_an_unknown_hash_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let answers = post(
        &app,
        &app.address,
        &json!([
            { "extensions": persisted(&sha256_hex("{ me { email } }")) },
            { "query": "{ me { role } }" },
        ]),
    )
    .await;
    assert_eq!(first_error_code(&answers[0]), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(answers[1]["data"]["me"]["role"], "CLIENT", "{answers}");
}
on_every_backend!(a_batch_answers_an_unknown_hash_alone);

async fn a_kept_document_meets_the_limits_every_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut too_deep = String::from("{ __schema { types { fields { type ");
    too_deep.push_str(&"{ ofType ".repeat(30));
    too_deep.push_str(&"}".repeat(34));
    let aliases: String = (0..31).map(|i| format!(" a{i}: __typename")).collect();
    for (query, expected) in [
        (too_deep, "query_too_deep"),
        (format!("{{{aliases} }}"), "too_many_aliases"),
        (
            "{ therapists(first: 5) { nodes { nope } } }".to_owned(),
            "invalid_query",
        ),
    ] {
        for attempt in ["first", "second"] {
            let answer = post(&app, &app.address, &json!({ "query": query })).await;
            assert_eq!(
                first_error_code(&answer),
                expected,
                "{attempt} time: {answer}"
            );
            let hashed = post(
                &app,
                &app.address,
                &json!({ "query": query, "extensions": persisted(&sha256_hex(&query)) }),
            )
            .await;
            assert_eq!(
                first_error_code(&hashed),
                expected,
                "{attempt} time, with its hash"
            );
        }
    }
}
on_every_backend!(a_kept_document_meets_the_limits_every_time);

async fn a_validation_is_kept_only_for_the_variables_it_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(3).await;
    let query = "query($first: Int) { therapists(first: $first) { nodes { uuid } } }";
    for (variables, valid) in [
        (json!({ "first": 2 }), true),
        (json!({ "first": "two" }), false),
        (json!({ "first": 2 }), true),
        (json!({ "first": "two" }), false),
    ] {
        let answer = post(
            &app,
            &app.address,
            &json!({ "query": query, "variables": variables }),
        )
        .await;
        if valid {
            assert_eq!(
                answer["data"]["therapists"]["nodes"]
                    .as_array()
                    .map(Vec::len),
                Some(2),
                "{answer}"
            );
        } else {
            assert_eq!(first_error_code(&answer), "invalid_query", "{answer}");
        }
    }
}
on_every_backend!(a_validation_is_kept_only_for_the_variables_it_checked);
