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

/// A database that stops answering (the path frozen, every socket left open) is a fast
/// 503, never a hang: readiness within 2 s, reads and sends within the statement
/// deadline; after the thaw everything recovers without a restart.
async fn a_frozen_database_is_a_fast_503_and_recovers(backend: Backend) {
    if backend == Backend::Sqlite {
        // An embedded database has no network path to freeze.
        return;
    }
    const DEADLINE: Duration = Duration::from_millis(1_500);
    let db = TestDatabase::create(backend).await;
    let relay = Relay::start(db.server_address()).await;
    let mut config = test_config(&db.url_through(&relay));
    config.db_statement_timeout_ms = u64::try_from(DEADLINE.as_millis()).expect("ms");
    let app = TestApp::boot(db, config).await;
    let chat = crate::realtime::chat(&app).await;
    let messages = format!("/v1/conversations/{}/messages", chat.conversation);
    assert_eq!(app.get("/v1/therapists").await.status(), 200);

    relay.freeze();
    let started = Instant::now();
    let response = app.get("/readyz").await;
    assert!(
        started.elapsed() < Duration::from_millis(2_500),
        "readyz took {:?}",
        started.elapsed()
    );
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 503, "unavailable").await;

    // More requests than the pool has connections, reads and sends together.
    let requests: Vec<_> = (0..12)
        .map(|n| {
            let (http, address) = (app.http.clone(), app.address.clone());
            let (messages, token) = (messages.clone(), chat.client_token.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let request = if n % 2 == 0 {
                    http.get(format!("{address}/v1/therapists?limit=5&q=n{n}"))
                } else {
                    http.post(format!("{address}{messages}")).json(
                        &serde_json::json!({ "body": "frozen?", "client_msg_id": format!("f{n}") }),
                    )
                };
                let status = request
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("answered")
                    .status();
                (status.as_u16(), started.elapsed())
            })
        })
        .collect();
    for request in requests {
        let (status, took) = request.await.expect("a request");
        assert_eq!(status, 503, "fails fast, not 500");
        // The deadline, or the 3 s wait for a connection when every one is stuck.
        assert!(took < Duration::from_secs(8), "answered after {took:?}");
    }

    relay.thaw();
    let recovered_by = Instant::now() + Duration::from_secs(20);
    while app.get("/readyz").await.status() != 200 {
        assert!(
            Instant::now() < recovered_by,
            "readiness recovers without a restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = app.get("/v1/therapists").await;
    assert_eq!(
        after.status(),
        200,
        "{}",
        after.text().await.unwrap_or_default()
    );
    let send = serde_json::json!({ "body": "thawed", "client_msg_id": "thawed" });
    let response = app
        .post_json(&messages, &send, Some(&chat.client_token))
        .await;
    assert_eq!(response.status(), 201);
}
on_every_backend!(a_frozen_database_is_a_fast_503_and_recovers);

/// Connections the server ends (an admin, a failover) are 503 at worst, never 500;
/// reads try once more on another connection.
async fn connections_the_server_ends_are_never_a_500(backend: Backend) {
    use sea_orm::{ConnectionTrait, Database};
    if backend == Backend::Sqlite {
        return;
    }
    let app = TestApp::spawn(backend).await;
    let chat = crate::realtime::chat(&app).await;
    let messages = format!("/v1/conversations/{}/messages", chat.conversation);
    // Open several pooled connections.
    let warm: Vec<_> = (0..8).map(|_| app.get("/v1/therapists?limit=5")).collect();
    for response in futures_util::future::join_all(warm).await {
        assert_eq!(response.status(), 200);
    }
    let admin = Database::connect(app.database_url())
        .await
        .expect("an admin connection");
    let name = app
        .database_url()
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_owned();
    match backend {
        Backend::Postgres => {
            let kill = format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            );
            admin
                .execute_unprepared(&kill)
                .await
                .expect("backends terminated");
        }
        _ => {
            let list = format!(
                "SELECT id FROM information_schema.processlist WHERE db = '{name}' AND id <> CONNECTION_ID()"
            );
            let statement = sea_orm::Statement::from_string(admin.get_database_backend(), list);
            for row in admin
                .query_all_raw(statement)
                .await
                .expect("the process list")
            {
                let id: i64 = row.try_get("", "id").expect("an id");
                admin.execute_unprepared(&format!("KILL {id}")).await.ok();
            }
        }
    }
    let mut statuses = Vec::new();
    for n in 0..16 {
        statuses.push(app.get("/v1/therapists?limit=5").await.status().as_u16());
        let send = serde_json::json!({ "body": "after", "client_msg_id": format!("a{n}") });
        statuses.push(
            app.post_json(&messages, &send, Some(&chat.client_token))
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(
        statuses.iter().all(|s| [200, 201, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .rev()
            .take(4)
            .all(|s| [200, 201].contains(s)),
        "recovers: {statuses:?}"
    );
}
on_every_backend!(connections_the_server_ends_are_never_a_500);
