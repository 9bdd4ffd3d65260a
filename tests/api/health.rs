//! Liveness and readiness.

use std::time::{Duration, Instant};

use crate::helpers::{Backend, Relay, TestApp, TestDatabase, assert_problem, test_config};

async fn healthz_and_readyz_answer_200_while_the_database_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
}
on_every_backend!(healthz_and_readyz_answer_200_while_the_database_answers);

/// Readiness follows the database down and back up without a restart, and a request
/// that needs the database fails fast with 503 and `Retry-After` instead of hanging.
async fn readyz_is_503_while_the_database_is_unreachable_and_recovers(backend: Backend) {
    if backend == Backend::Sqlite {
        // An embedded database cannot become unreachable; nothing to cut.
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.get("/readyz").await.status(), 200);
        return;
    }
    let db = TestDatabase::create(backend).await;
    let relay = Relay::start(db.server_address()).await;
    let config = test_config(&db.url_through(&relay));
    let app = TestApp::boot(db, config).await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    relay.cut();
    let started = Instant::now();
    let response = app.get("/readyz").await;
    let problem_took = started.elapsed();
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 503, "unavailable").await;
    let response = app.get("/v1/therapists").await;
    assert_eq!(response.status(), 503, "a data request also fails fast");
    assert!(
        problem_took < Duration::from_secs(10),
        "readiness must fail fast, took {problem_took:?}"
    );

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if app.get("/readyz").await.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "readiness must recover without a restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.get("/v1/therapists").await.status(), 200);
}
on_every_backend!(readyz_is_503_while_the_database_is_unreachable_and_recovers);
