//! Push: registering devices in both doors, the refusals of bad input, muting, and
//! the outbox that sending writes.

mod delivery;
mod durability;
mod fake;
mod fake_apns;
mod fake_fcm;
mod native;
mod outbox;
mod receiver;
mod subscriptions;
mod validation;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{Value, json};

pub(crate) use crate::conversing::{send, set_muted};
use crate::helpers::{Backend, TestApp, TestDatabase, test_config};

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

/// A node that pushes to loopback `delay_ms` after a send, with `configure`'s changes
/// (a provider's stand-in, say).
pub(crate) async fn pushing_app(
    backend: Backend,
    delay_ms: u64,
    configure: impl FnOnce(api::Config) -> api::Config,
) -> TestApp {
    let db = TestDatabase::create(backend).await;
    let config = api::Config {
        push_allow_loopback: true,
        push_delay_ms: delay_ms,
        ..test_config(db.url())
    };
    TestApp::boot(db, configure(config)).await
}

/// The value of `push_sent_total{provider,outcome}` in `/metrics`.
pub(crate) async fn sent(app: &TestApp, provider: &str, outcome: &str) -> u64 {
    let text = app.get("/metrics").await.text().await.expect("text");
    let prefix = format!("push_sent_total{{provider=\"{provider}\",outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in /metrics"))
        .parse()
        .expect("a count")
}

/// `GET /v1/push/subscriptions` as `token` until it lists none (a gone device is
/// removed when its round settles); panics if one is still there after five seconds.
pub(crate) async fn until_no_subscription(app: &TestApp, token: &str) {
    for _ in 0..50 {
        let listed = app
            .get_as("/v1/push/subscriptions", Some(token))
            .await
            .json::<Value>()
            .await
            .expect("json");
        if listed == json!([]) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the gone subscription is still listed");
}
