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
