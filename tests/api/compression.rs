//! What a client that accepts gzip gets: compressed JSON that decodes to the same
//! answer, streams that stay uncompressed and deliver at once, and conditional
//! requests answered by `ETag` and 304.

use std::io::Read;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::realtime::chat;

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .http
        .get(format!("{}{path}", app.address))
        .bearer_auth(&app.token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("answered")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut decoded)
        .expect("a gzip body");
    decoded
}

async fn json_is_gzipped_for_clients_that_accept_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(100).await;
    let path = "/v1/therapists?limit=100";

    let plain = get(&app, path, &[]).await;
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.expect("a body");

    let gzipped = get(&app, path, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gzipped.status(), 200);
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    assert!(
        gzipped.headers()["vary"]
            .to_str()
            .expect("ascii")
            .contains("accept-encoding")
    );
    let compressed = gzipped.bytes().await.expect("a body");
    let decoded = gunzip(&compressed);
    let (plain, decoded): (Value, Value) = (
        serde_json::from_slice(&plain).expect("JSON"),
        serde_json::from_slice(&decoded).expect("JSON once decoded"),
    );
    assert_eq!(plain, decoded);
    assert_eq!(decoded["items"].as_array().map(Vec::len), Some(100));
    assert!(
        compressed.len() * 3 < serde_json::to_vec(&plain).expect("bytes").len(),
        "a page of 100 compresses well: {} bytes",
        compressed.len()
    );
}
on_every_backend!(json_is_gzipped_for_clients_that_accept_it);

async fn a_profile_and_a_page_answer_304_to_their_etag(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.seed_therapists(5).await;
    let page = get(&app, "/v1/therapists?limit=2", &[]).await;
    let page_tag = page.headers()["etag"].to_str().expect("ascii").to_owned();
    assert!(page_tag.starts_with('"'), "a strong tag: {page_tag}");
    let first: Value = page.json().await.expect("JSON");
    let id = first["items"][0]["id"].as_str().expect("an id").to_owned();

    let profile_path = format!("/v1/therapists/{id}");
    let profile = get(&app, &profile_path, &[]).await;
    let tag = profile.headers()["etag"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let again = get(&app, &profile_path, &[("if-none-match", &tag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], tag.as_str());
    assert!(again.bytes().await.expect("a body").is_empty());

    let again = get(
        &app,
        "/v1/therapists?limit=2",
        &[("if-none-match", &page_tag)],
    )
    .await;
    assert_eq!(again.status(), 304);
    // Another page, another tag: no 304.
    let other = get(
        &app,
        "/v1/therapists?limit=3",
        &[("if-none-match", &page_tag)],
    )
    .await;
    assert_eq!(other.status(), 200);

    // The gzip representation has a tag of its own, and it validates the same content.
    let gzipped = get(&app, &profile_path, &[("accept-encoding", "gzip")]).await;
    let gzip_tag = gzipped.headers()["etag"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_ne!(gzip_tag, tag);
    let again = get(
        &app,
        &profile_path,
        &[("accept-encoding", "gzip"), ("if-none-match", &gzip_tag)],
    )
    .await;
    assert_eq!(again.status(), 304);

    // A changed profile has a new tag.
    let support = app.token_for(domain::actor::Role::Support).await;
    let changed = app
        .http
        .patch(format!("{}/v1/admin/therapists/{id}", app.address))
        .bearer_auth(&support)
        .json(&json!({ "bio": "A new biography" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(changed.status(), 200);
    let after = get(&app, &profile_path, &[("if-none-match", &tag)]).await;
    assert_eq!(after.status(), 200);
}
on_every_backend!(a_profile_and_a_page_answer_304_to_their_etag);

async fn the_event_stream_stays_uncompressed_and_delivers_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chat = chat(&app).await;
    let response = app
        .http
        .get(format!("{}/v1/events", app.address))
        .bearer_auth(&chat.client_token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("the stream opens");
    assert_eq!(response.status(), 200);
    assert_ne!(
        response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap_or_default()),
        Some("gzip")
    );
    let mut body = response.bytes_stream();
    let sent = app
        .post_json(
            &format!("/v1/conversations/{}/messages", chat.conversation),
            &json!({ "body": "hello", "client_msg_id": "gzip-1" }),
            Some(&chat.therapist_token),
        )
        .await;
    assert_eq!(sent.status(), 201);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("event: message_created") {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("the event arrives at once, not when a compressed block fills")
            .expect("the stream stays open")
            .expect("a chunk");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}
on_every_backend!(the_event_stream_stays_uncompressed_and_delivers_at_once);
