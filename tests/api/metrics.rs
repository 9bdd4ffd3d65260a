//! `/metrics` speaks the Prometheus text format and labels requests by route template.

use domain::actor::Role;
use domain::database::Storage;

use crate::helpers::{Backend, TestApp, TestDatabase};
use crate::process::PortalProcess;

/// The value of the sample `name{labels}` (labels exactly as rendered), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

async fn requests_are_counted_and_timed_by_route_template(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = uuid::Uuid::now_v7();

    assert_eq!(app.get(&format!("/v1/therapists/{id}")).await.status(), 404);
    assert_eq!(app.get("/v1/therapists?limit=2").await.status(), 200);
    assert_eq!(app.get("/no/such/route/1234").await.status(), 404);
    let response = app.get_as("/metrics", None).await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.expect("a text body");
    assert_eq!(
        sample(
            &text,
            r#"http_requests_total{method="GET",route="/v1/therapists/{id}",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        !text.contains(&id.to_string()),
        "raw paths must not become labels"
    );
    assert!(
        !text.contains("/no/such/route"),
        "raw paths must not become labels"
    );
    assert_eq!(
        sample(
            &text,
            r#"http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
    assert_eq!(
        sample(
            &text,
            r#"http_request_duration_seconds_bucket{method="GET",route="/v1/therapists",le="+Inf"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.contains(
            r#"http_request_duration_seconds_bucket{method="GET",route="/v1/therapists",le="0.1"}"#
        ),
        "{text}"
    );
    let statements = sample(&text, "db_statements_total").expect("the statement counter");
    assert!(statements > 0.0, "{text}");
    let in_use = sample(&text, r#"db_pool_connections{state="in_use"}"#).expect("pool in use");
    let idle = sample(&text, r#"db_pool_connections{state="idle"}"#).expect("pool idle");
    assert!(
        in_use >= 0.0 && idle >= 0.0 && in_use + idle >= 1.0,
        "{text}"
    );
    // Of the 8 connections configured, half are reads' warm connections on
    // PostgreSQL and MariaDB.
    let (pool, warm) = match app.backend {
        Backend::Sqlite => (8.0, None),
        _ => (4.0, Some(4.0)),
    };
    assert_eq!(
        sample(&text, "db_pool_max_connections"),
        Some(pool),
        "{text}"
    );
    let warm_open = sample(&text, r#"db_warm_connections{state="reading"}"#)
        .zip(sample(&text, r#"db_warm_connections{state="parked"}"#))
        .map(|(reading, parked)| reading + parked);
    match warm {
        Some(most) => assert!(
            warm_open.is_some_and(|open| (1.0..=most).contains(&open)),
            "{text}"
        ),
        None => assert_eq!(warm_open, Some(0.0), "{text}"),
    }
}
on_every_backend!(requests_are_counted_and_timed_by_route_template);

async fn realtime_sessions_and_presence_are_counted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let metric = |text: &str, name: &str| sample(text, name).unwrap_or(0.0);
    let before = app.get("/metrics").await.text().await.expect("text");

    // An open event stream is a session, and makes its user online: one presence change.
    let stream = app.get("/v1/events").await;
    assert_eq!(stream.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let during = loop {
        let text = app.get("/metrics").await.text().await.expect("text");
        if metric(&text, "presence_changes_total") > metric(&before, "presence_changes_total") {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no presence change counted: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(metric(&during, "realtime_sessions_open"), 1.0, "{during}");
    assert!(
        during.contains("realtime_events_fanned_out_total"),
        "{during}"
    );
    assert!(during.contains("presence_db_statements_total"), "{during}");
    assert!(
        during.contains("realtime_slow_subscribers_dropped_total"),
        "{during}"
    );
    drop(stream);
}
on_every_backend!(realtime_sessions_and_presence_are_counted);

/// Waits for a pooled connection are timed (sqlx reports them as tracing events; the
/// process's subscriber turns them into a histogram), so a pool that is too small
/// shows before requests start failing with 503.
async fn waits_for_a_database_connection_are_timed(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let portal = PortalProcess::serve(db.url(), &[]);
    let metrics = || async {
        reqwest::get(format!("{}/metrics", portal.address))
            .await
            .expect("answered")
            .text()
            .await
            .expect("a text body")
    };
    let before = sample(&metrics().await, "db_pool_acquire_wait_seconds_count").unwrap_or(0.0);
    let storage = Storage::connect(db.url(), 2).await.expect("a connection");
    let (_, token) = portal.signed_in(&storage, Role::Client).await;
    let response = reqwest::Client::new()
        .get(format!("{}/v1/therapists?limit=5", portal.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);

    let text = metrics().await;
    let after = sample(&text, "db_pool_acquire_wait_seconds_count").expect("the histogram");
    assert!(
        after > before,
        "sign-in and a page took connections: {text}"
    );
    assert!(
        text.contains(r#"db_pool_acquire_wait_seconds_bucket{le="0.001"}"#),
        "{text}"
    );
}
on_every_backend!(waits_for_a_database_connection_are_timed);
