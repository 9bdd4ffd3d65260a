//! Limits against abuse: body size, GraphQL depth, complexity, aliases and batch size.
//! Every refusal names itself with a `code`.

use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, TestDatabase, assert_problem, first_error_code, test_config,
};

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

    // Introspection has a bound of its own, above what graphql-js asks for, and
    // ordinary fields theirs.
    let of_type_chain = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(30),
        "} ".repeat(30)
    );
    let nested_fields = format!("{{ {} id {} }}", "me { ".repeat(13), "} ".repeat(13));
    for deep in [of_type_chain, nested_fields] {
        let response = app.graphql(&deep, json!({})).await;
        assert_eq!(first_error_code(&response), "query_too_deep", "{response}");
        assert!(response["data"].is_null(), "{response}");
    }

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
    assert_eq!(allowed["data"]["a29"], "Query");

    let refused = app.graphql(&aliased(31), json!({})).await;
    assert_eq!(first_error_code(&refused), "too_many_aliases", "{refused}");
    assert!(refused["data"].is_null(), "{refused}");

    // Aliases inside fragments count too.
    let in_fragment = format!(
        "query {{ ...f }} fragment f on Query {{ {} }}",
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
    assert_eq!(answers[9]["data"]["__typename"], "Query");

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

async fn a_client_over_its_rate_gets_429_with_retry_after_but_probes_do_not(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let mut config = test_config(db.url());
    config.rate_limit_per_second = 1;
    config.rate_limit_burst = 5;
    let app = TestApp::boot(db, config).await; // its sign-in used one request

    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(app.get("/v1/therapists?limit=1").await);
    }
    let limited = statuses
        .into_iter()
        .find(|response| response.status() == 429)
        .expect("a burst of 10 exceeds 5");
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("whole seconds");
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    assert_problem(limited, 429, "rate_limited").await;

    for path in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(app.get(path).await.status(), 200, "{path} is exempt");
    }
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains(r#"route="/v1/therapists",status="429""#),
        "{metrics}"
    );
}
on_every_backend!(a_client_over_its_rate_gets_429_with_retry_after_but_probes_do_not);

async fn cors_allows_listed_origins_only(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let mut config = test_config(db.url());
    config.cors_origins = vec!["https://portal.example.org".to_owned()];
    let app = TestApp::boot(db, config).await;
    let preflight = |origin: &str| {
        app.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/therapists", app.address),
            )
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };

    let allowed = preflight("https://portal.example.org")
        .await
        .expect("answered");
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://portal.example.org"
    );
    assert!(
        allowed.headers()["access-control-allow-headers"]
            .to_str()
            .expect("ASCII")
            .contains("authorization")
    );
    let listed = app
        .http
        .get(format!("{}/v1/therapists?limit=1", app.address))
        .bearer_auth(&app.token)
        .header("origin", "https://portal.example.org")
        .send()
        .await
        .expect("answered");
    assert_eq!(listed.status(), 200);
    assert_eq!(
        listed.headers()["access-control-allow-origin"],
        "https://portal.example.org"
    );
    assert!(
        listed.headers()["access-control-expose-headers"]
            .to_str()
            .expect("ASCII")
            .to_lowercase()
            .contains("link")
    );

    let refused = preflight("https://evil.example.com")
        .await
        .expect("answered");
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
    assert_problem(refused, 400, "bad_request").await;
}
on_every_backend!(cors_allows_listed_origins_only);

async fn without_cors_origins_no_cors_headers_are_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .http
        .get(format!("{}/v1/therapists?limit=1", app.address))
        .bearer_auth(&app.token)
        .header("origin", "https://portal.example.org")
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), 200);
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
}
on_every_backend!(without_cors_origins_no_cors_headers_are_sent);

#[test]
fn malformed_cors_origins_are_refused_at_start() {
    let mut config = crate::helpers::test_config("sqlite::memory:");
    for bad in ["portal.example.org", "https://portal.example.org/app", "*"] {
        config.cors_origins = vec![bad.to_owned()];
        assert!(config.cors_origins().is_err(), "{bad} must be refused");
    }
    config.cors_origins = vec![" https://a.example.org/ ".to_owned(), String::new()];
    assert_eq!(
        config.cors_origins(),
        Ok(vec!["https://a.example.org".to_owned()])
    );
}

/// WebSocket upgrades are answered before the app's middleware runs; the per-client
/// limit still applies to them.
async fn websocket_upgrades_count_against_the_rate_limit(backend: Backend) {
    use tokio_tungstenite::tungstenite::Error;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let db = TestDatabase::create(backend).await;
    let mut config = test_config(db.url());
    config.rate_limit_per_second = 1;
    config.rate_limit_burst = 3;
    let app = TestApp::boot(db, config).await;

    let url = format!("{}/graphql/ws", app.address.replacen("http", "ws", 1));
    let mut open = Vec::new();
    let mut refused = None;
    for _ in 0..6 {
        let mut request = url.as_str().into_client_request().expect("a request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("a header"),
        );
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => open.push(socket),
            Err(Error::Http(response)) => {
                refused = Some(response);
                break;
            }
            Err(err) => panic!("unexpected: {err}"),
        }
    }
    let refused = refused.expect("six upgrades exceed a burst of three");
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    // The same refusal, read whole by an HTTP client.
    let response = app
        .http
        .get(format!("{}/graphql/ws", app.address))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .send()
        .await
        .expect("answered");
    assert_problem(response, 429, "rate_limited").await;
}
on_every_backend!(websocket_upgrades_count_against_the_rate_limit);

/// What GraphiQL's docs explorer and every code generator send first.
async fn the_introspection_query_of_graphql_js_is_answered_with_and_without_a_token(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    for query in [
        include_str!("fixtures/introspection.graphql"),
        include_str!("fixtures/introspection_graphiql.graphql"),
    ] {
        for token in [Some(app.token.as_str()), None] {
            let response = app.graphql_as(query, json!({}), token).await;
            assert!(response.get("errors").is_none(), "{response}");
            let schema = &response["data"]["__schema"];
            assert_eq!(schema["queryType"]["name"], "Query");
            assert_eq!(schema["mutationType"]["name"], "Mutation");
            assert_eq!(schema["subscriptionType"]["name"], "Subscription");
            let query_type = schema["types"]
                .as_array()
                .expect("types")
                .iter()
                .find(|t| t["name"] == "Query")
                .expect("the Query type");
            let fields: Vec<&str> = query_type["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .filter_map(|f| f["name"].as_str())
                .collect();
            assert!(fields.contains(&"therapists"), "{fields:?}");
        }
    }
}
on_every_backend!(the_introspection_query_of_graphql_js_is_answered_with_and_without_a_token);
