//! Push: registering devices in both doors, the refusals of bad input, muting, and
//! the outbox that sending writes.

mod delivery;
mod durability;
mod outbox;
mod receiver;
mod subscriptions;
mod validation;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A browser subscription as `PushSubscription.toJSON()` gives it, with fresh keys.
pub(crate) fn browser_subscription(endpoint: &str) -> Value {
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let public = secret.public_key().to_encoded_point(false);
    let auth: [u8; 16] = rand::random();
    json!({
        "kind": "webpush",
        "endpoint": endpoint,
        "expirationTime": null,
        "keys": {
            "p256dh": URL_SAFE_NO_PAD.encode(public.as_bytes()),
            "auth": URL_SAFE_NO_PAD.encode(auth),
        },
    })
}

/// An endpoint no other test uses (it is never contacted: nothing is pushed here).
pub(crate) fn unique_endpoint() -> String {
    format!("https://push.example.org/send/{}", uuid::Uuid::new_v4())
}

/// `POST /v1/push/subscriptions` as `token`; the status and body.
pub(crate) async fn register(app: &TestApp, body: &Value, token: &str) -> (u16, Value) {
    let response = app
        .post_json("/v1/push/subscriptions", body, Some(token))
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// `PUT /v1/conversations/{conversation}/notifications { muted }` as `token`.
pub(crate) async fn set_muted(
    app: &TestApp,
    token: &str,
    conversation: &str,
    muted: bool,
) -> reqwest::Response {
    app.http
        .put(format!(
            "{}/v1/conversations/{conversation}/notifications",
            app.address
        ))
        .bearer_auth(token)
        .json(&json!({ "muted": muted }))
        .send()
        .await
        .expect("answered")
}
