//! Every error a client sees is an RFC 9457 problem with a stable `code`.

use crate::helpers::{Backend, TestApp, assert_problem};

async fn an_unknown_route_is_a_404_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let problem = assert_problem(app.get("/v1/no-such-thing").await, 404, "not_found").await;

    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("/v1/no-such-thing"))
    );
}
on_every_backend!(an_unknown_route_is_a_404_problem);

async fn a_wrong_method_is_a_problem_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .http
        .delete(format!("{}/v1/therapists", app.address))
        .send()
        .await
        .expect("answered");

    assert!(response.status().is_client_error());
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
on_every_backend!(a_wrong_method_is_a_problem_too);

async fn a_malformed_query_parameter_is_a_400_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    assert_problem(
        app.get("/v1/therapists?limit=ten").await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_problem(
        app.get("/v1/therapists?sort=price").await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_problem(
        app.get("/v1/therapists/not-a-uuid").await,
        400,
        "invalid_path",
    )
    .await;
}
on_every_backend!(a_malformed_query_parameter_is_a_400_problem);

async fn a_known_path_with_another_method_is_a_405_with_allow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = uuid::Uuid::now_v7();

    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/v1/therapists".to_owned(), "GET"),
        (
            reqwest::Method::PUT,
            "/v1/conversations".to_owned(),
            "GET, POST",
        ),
        (reqwest::Method::POST, format!("/v1/therapists/{id}"), "GET"),
        (reqwest::Method::TRACE, "/healthz".to_owned(), "GET"),
        (reqwest::Method::DELETE, "/graphql".to_owned(), "GET, POST"),
        (
            reqwest::Method::PATCH,
            "/v1/admin/therapists/export".to_owned(),
            "GET",
        ),
    ] {
        let response = app
            .http
            .request(method.clone(), format!("{}{path}", app.address))
            .bearer_auth(&app.token)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        assert_problem(response, 405, "method_not_allowed").await;
    }
}
on_every_backend!(a_known_path_with_another_method_is_a_405_with_allow);

/// JSON Schema counts `4.0` as an integer, so generated clients may send it.
async fn an_integer_written_with_a_zero_fraction_is_accepted_and_a_fraction_is_a_400(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let therapist = app.create_account(domain::actor::Role::Therapist).await;
    let client = app.create_account(domain::actor::Role::Client).await;
    let conversation =
        domain::seed::seed_conversation(&app.storage.db, &[therapist.id, client.id], 5)
            .await
            .expect("a seeded conversation");
    let token = app.login(&client).await;
    let path = format!("/v1/conversations/{conversation}/read");

    let read = app
        .post_json(&path, &serde_json::json!({ "seq": 4.0 }), Some(&token))
        .await;
    assert_eq!(read.status(), 200);
    let marker: serde_json::Value = read.json().await.expect("a JSON body");
    assert!(marker["last_read_seq"].is_i64(), "{marker}");

    let fraction = app
        .post_json(&path, &serde_json::json!({ "seq": 4.5 }), Some(&token))
        .await;
    assert_problem(fraction, 400, "malformed_body").await;
}
on_every_backend!(an_integer_written_with_a_zero_fraction_is_accepted_and_a_fraction_is_a_400);
