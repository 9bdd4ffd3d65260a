//! SIGTERM stops `portal` gracefully: it lets in-flight requests finish, tells
//! WebSocket and SSE sessions to reconnect, closes idle connections (`draining`), and
//! exits with status 0 once nothing is left.

mod draining;

use std::time::{Duration, Instant};

use domain::actor::Role;
use domain::database::Storage;
use serde_json::json;

use crate::helpers::{Backend, TestDatabase};
use crate::process::PortalProcess;
use crate::realtime::{Sse, ws_next, ws_send, ws_signed_in};

/// Enough therapists that the export (about 400 bytes each) outgrows what the
/// loopback socket buffers can hold: the response cannot finish until it is read.
const THERAPISTS: u64 = 16_000;

async fn sigterm_lets_an_in_flight_export_finish_and_exits_0(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let mut portal = PortalProcess::serve(db.url(), &[]);
    let storage = Storage::connect(db.url(), 2).await.expect("a connection");
    domain::seed::seed_directory(&storage.db, THERAPISTS, 5)
        .await
        .expect("therapists are seeded");
    let (_, token) = portal.signed_in(&storage, Role::Support).await;
    let export = reqwest::Client::new()
        .get(format!("{}/v1/admin/therapists/export", portal.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the export starts");
    assert_eq!(export.status(), 200);

    portal.terminate();

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        portal.wait_for_exit(Duration::ZERO).is_none(),
        "portal exited with a response unfinished"
    );
    let body = export.text().await.expect("the whole export arrives");
    assert_eq!(body.lines().count() as u64, THERAPISTS);
    let status = portal
        .wait_for_exit(Duration::from_secs(30))
        .expect("portal exits once the export is done");
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        portal.output()
    );
    assert!(
        portal.output().contains("portal stopped"),
        "{}",
        portal.output()
    );
}
on_every_backend!(sigterm_lets_an_in_flight_export_finish_and_exits_0);

/// Sessions never end on their own, so shutdown would wait the whole shutdown timeout
/// for them and then cut them. Instead they are told at once: the WebSocket closes
/// with 1012 (service restart), the event stream ends with `event: reconnect` and a
/// `retry:` delay, and the process exits long before the timeout.
async fn sigterm_closes_sessions_with_a_reconnect_hint(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let mut portal = PortalProcess::serve(db.url(), &[("PORTAL_SHUTDOWN_TIMEOUT_SECS", "60")]);
    let storage = Storage::connect(db.url(), 2).await.expect("a connection");
    let (_, token) = portal.signed_in(&storage, Role::Client).await;
    let mut socket = ws_signed_in(&portal.address, &token).await;
    ws_send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { presenceChanged { accountId status } }" } }),
    )
    .await;
    let mut events = Sse::open(&portal.address, &token, None).await;

    let signalled = Instant::now();
    portal.terminate();

    assert_eq!(ws_next(&mut socket).await, json!({ "close": 1012 }));
    let (hint, retry) = events.next_with_retry("reconnect").await;
    assert_eq!(hint, json!({}));
    assert!(
        retry.is_some_and(|ms| ms > 0),
        "a retry delay comes with the hint"
    );
    assert!(events.ended().await, "the event stream ends after the hint");
    let status = portal
        .wait_for_exit(Duration::from_secs(20))
        .expect("portal exits without waiting out the shutdown timeout");
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        portal.output()
    );
    assert!(signalled.elapsed() < Duration::from_secs(20));
}
on_every_backend!(sigterm_closes_sessions_with_a_reconnect_hint);
