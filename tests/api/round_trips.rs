//! A read on the pool is one exchange with the database: its connection is parked
//! between reads (`domain/src/database/warm.rs`) instead of going back to sqlx's pool,
//! which pings every connection it takes back.

use crate::helpers::{Backend, Relay, TestApp, TestDatabase, test_config};

/// Reads sent while the relay counts what the app sends to the server.
const READS: u64 = 100;

async fn a_read_sends_its_statements_and_nothing_else(backend: Backend) {
    if backend == Backend::Sqlite {
        // An embedded database has no connection to count on.
        return;
    }
    let db = TestDatabase::create(backend).await;
    let relay = Relay::start(db.server_address()).await;
    let config = test_config(&db.url_through(&relay));
    let app = TestApp::boot(db, config).await;
    let page = "/v1/therapists?limit=5";
    // The first reads prepare their statements on the connections they get.
    for _ in 0..5 {
        assert_eq!(app.get(page).await.status(), 200);
    }

    let (statements, sent) = (app.statements.total(), relay.sent_to_server());
    for _ in 0..READS {
        assert_eq!(app.get(page).await.status(), 200);
    }
    let statements = app.statements.total() - statements;
    let sent = relay.sent_to_server() - sent;
    assert!(
        statements >= READS,
        "{statements} statements for {READS} reads"
    );
    // With a ping after each read, twice the statements. A worker thread that reads
    // for the first time opens its connection (a few messages) and prepares the
    // statement on it; background work of the node may add a few of its own.
    assert!(
        sent < statements * 3 / 2,
        "{sent} messages to the server for {statements} statements on {backend:?}"
    );
}
on_every_backend!(a_read_sends_its_statements_and_nothing_else);
