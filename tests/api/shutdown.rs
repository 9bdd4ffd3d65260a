//! SIGTERM stops `portal` gracefully: it stops accepting connections, lets in-flight
//! requests finish, and exits with status 0.

use std::time::{Duration, Instant};

use domain::actor::Role;
use domain::database::Storage;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestDatabase, create_account_in};
use crate::process::PortalProcess;

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
    let support = create_account_in(&storage, Role::Support).await;
    let http = reqwest::Client::new();
    let tokens: Value = http
        .post(format!("{}/v1/auth/login", portal.address))
        .json(&json!({ "email": support.email, "password": support.password }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("a token pair");
    let token = tokens["access_token"].as_str().expect("a token");
    let export = http
        .get(format!("{}/v1/admin/therapists/export", portal.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("the export starts");
    assert_eq!(export.status(), 200);

    portal.terminate();

    let listener = portal.address.trim_start_matches("http://").to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(&listener).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "portal still accepts connections after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
