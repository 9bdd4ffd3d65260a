//! Bad registrations: each is a 422 problem naming its field, and nothing is stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{browser_subscription, register, unique_endpoint};
use crate::helpers::{Backend, TestApp, TestDatabase, test_config};

/// Registers `body` and expects a 422 whose detail starts with `field:`.
async fn refused(app: &TestApp, body: Value, field: &str) {
    let (status, problem) = register(app, &body, &app.token).await;
    assert_eq!(status, 422, "{body} on {:?}: {problem}", app.backend);
    assert_eq!(problem["code"], "validation_failed");
    let detail = problem["detail"].as_str().expect("a detail");
    assert!(
        detail.starts_with(&format!("{field}:")),
        "{field}: {detail}"
    );
}

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    *body.pointer_mut(pointer).expect("the field exists") = value;
    body
}

async fn bad_subscriptions_are_refused_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let good = browser_subscription(&unique_endpoint());
    for endpoint in [
        "http://push.example.org/send/1",
        "http://127.0.0.1:9/send",
        "ftp://push.example.org/1",
        "not a url",
        "https://user:secret@push.example.org/1",
        "https://10.0.0.8/send",
        "https://[fd00::1]/send",
        "https://169.254.169.254/latest",
        "https://localhost/send",
    ] {
        refused(
            &app,
            with(good.clone(), "/endpoint", json!(endpoint)),
            "endpoint",
        )
        .await;
    }
    let long = format!("https://push.example.org/{}", "a".repeat(2_048));
    refused(
        &app,
        with(good.clone(), "/endpoint", json!(long)),
        "endpoint",
    )
    .await;

    let not_a_point = URL_SAFE_NO_PAD.encode([[4u8].as_slice(), &[1u8; 64]].concat());
    let compressed = URL_SAFE_NO_PAD.encode([2u8; 33]);
    for p256dh in [not_a_point.as_str(), compressed.as_str(), "%%%", ""] {
        refused(
            &app,
            with(good.clone(), "/keys/p256dh", json!(p256dh)),
            "keys.p256dh",
        )
        .await;
    }
    for auth in [
        URL_SAFE_NO_PAD.encode([7u8; 15]),
        URL_SAFE_NO_PAD.encode([7u8; 32]),
    ] {
        refused(
            &app,
            with(good.clone(), "/keys/auth", json!(auth)),
            "keys.auth",
        )
        .await;
    }
    refused(
        &app,
        with(good.clone(), "/expirationTime", json!(1_000)),
        "expirationTime",
    )
    .await;

    // No provider but Web Push is configured on a test node.
    refused(
        &app,
        json!({ "kind": "fcm", "token": "f".repeat(150) }),
        "kind",
    )
    .await;
    let apns = json!({ "kind": "apns", "token": "ab".repeat(32), "topic": "org.example.portal" });
    refused(&app, apns, "kind").await;

    let listed = app.get_json("/v1/push/subscriptions").await;
    assert_eq!(listed, json!([]), "nothing was stored");
}
on_every_backend!(bad_subscriptions_are_refused_naming_the_field);

async fn a_body_of_the_wrong_shape_is_a_malformed_body(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for body in [
        json!({ "endpoint": unique_endpoint(), "keys": { "p256dh": "x", "auth": "y" } }),
        json!({ "kind": "webpush", "endpoint": unique_endpoint() }),
        json!({ "kind": "carrier-pigeon", "token": "x" }),
    ] {
        let response = app
            .post_json("/v1/push/subscriptions", &body, Some(&app.token))
            .await;
        crate::helpers::assert_problem(response, 400, "malformed_body").await;
    }
}
on_every_backend!(a_body_of_the_wrong_shape_is_a_malformed_body);

/// `http://` on loopback is for tests, and only with the flag.
#[tokio::test]
async fn loopback_endpoints_need_the_test_flag() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let config = api::Config {
        push_allow_loopback: true,
        ..test_config(db.url())
    };
    let app = TestApp::boot(db, config).await;
    for endpoint in [
        "http://127.0.0.1:9/push/1",
        "http://[::1]:9/push/2",
        "https://127.0.0.1/3",
    ] {
        let (status, body) = register(&app, &browser_subscription(endpoint), &app.token).await;
        assert_eq!(status, 201, "{endpoint}: {body}");
    }
    // Private ranges stay refused with the flag on.
    refused(
        &app,
        browser_subscription("http://10.1.2.3/push"),
        "endpoint",
    )
    .await;
    refused(
        &app,
        browser_subscription("https://192.168.0.10/push"),
        "endpoint",
    )
    .await;
}
