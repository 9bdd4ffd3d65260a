//! The support staff's export of the whole directory: NDJSON, every therapist once.

use domain::actor::Role;
use serde_json::Value;

use crate::helpers::{Backend, TestApp};

async fn support_exports_the_whole_directory_as_ndjson(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(1_234).await;
    let support = app.token_for(Role::Support).await;

    let response = app
        .get_as("/v1/admin/therapists/export", Some(&support))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let body = response.text().await.expect("a body");
    let ids: std::collections::HashSet<String> = body
        .lines()
        .map(|line| {
            let therapist: Value = serde_json::from_str(line).expect("one JSON object per line");
            therapist["id"].as_str().expect("an id").to_owned()
        })
        .collect();
    assert_eq!(body.lines().count(), 1_234);
    assert_eq!(ids.len(), 1_234);
}
on_every_backend!(support_exports_the_whole_directory_as_ndjson);
