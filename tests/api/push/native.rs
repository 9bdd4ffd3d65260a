//! The native apps' providers end to end, each against a local stand-in that checks
//! the documented request: FCM (an OAuth token from the service account's signed
//! assertion, cached; a data message of strings) and APNs (HTTP/2, an ES256 provider
//! token reused; an alert the app localises). Their answers are acted on as Web
//! Push's are: busy and failing services are retried, a gone device is removed.

use std::time::Duration;

use serde_json::{Value, json};

use super::fake::Reports;
use super::fake_apns::{self, FakeApns};
use super::fake_fcm::{self, FakeFcm};
use super::{pushing_app, register, send, sent, until_no_subscription};
use crate::helpers::{Backend, TestApp};
use crate::realtime::{Chat, chat};

const WAIT: Duration = Duration::from_secs(15);
const SECRET: &str = "I stopped taking the pills on Monday";

fn fcm_device() -> Value {
    json!({ "kind": "fcm", "token": format!("dQw4w9WgXcQ:APA91b{}", uuid::Uuid::new_v4().simple()) })
}

fn apns_device() -> (String, Value) {
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let device = json!({ "kind": "apns", "token": token, "topic": fake_apns::TOPIC });
    (token, device)
}

/// A chat whose client registered `device`.
async fn chat_with_device(app: &TestApp, device: &Value) -> Chat {
    let chat = chat(app).await;
    let (status, body) = register(app, device, &chat.client_token).await;
    assert_eq!(status, 201, "{body}");
    chat
}

/// The statuses of the next `n` reports.
async fn statuses(reports: &mut Reports, n: usize) -> Vec<Value> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        let report = reports.next(WAIT).await.expect("a try");
        statuses.push(report["status"].clone());
    }
    statuses
}

async fn an_android_app_gets_a_data_message_sent_with_one_cached_access_token(backend: Backend) {
    let mut fcm = FakeFcm::start(&[]).await;
    let app = pushing_app(backend, 100, |config| fcm.configure(config)).await;
    let device = fcm_device();
    let chat = chat_with_device(&app, &device).await;

    let first = send(&app, &chat.therapist_token, &chat.conversation, SECRET).await;
    let grant = fcm.reports.next(WAIT).await.expect("a token request");
    assert_eq!(grant["endpoint"], "token", "{grant}");
    assert_eq!(
        grant["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(
        grant["valid"], true,
        "signed by the service account: {grant}"
    );
    assert_eq!(grant["scope"], fake_fcm::SCOPE);
    let lifetime = grant["lifetime"].as_i64().expect("exp and iat");
    assert!(
        (1..=3600).contains(&lifetime),
        "Google allows an hour: {lifetime}"
    );

    let push = fcm.reports.next(WAIT).await.expect("a send");
    assert_eq!(push["endpoint"], "send", "{push}");
    assert_eq!(push["project"], fake_fcm::PROJECT);
    assert_eq!(push["authorized"], true);
    assert_eq!(push["status"], 200);
    let message = &push["message"];
    assert_eq!(message["token"], device["token"]);
    assert_eq!(
        message["data"],
        json!({
            "type": "message",
            "conversation_id": chat.conversation,
            "seq": first.to_string(),
            "unread_total": "1",
            "count": "1",
        }),
        "FCM data holds strings only, and nothing a lock screen should not show"
    );
    assert_eq!(message["android"]["priority"], "high");
    assert!(
        message.get("notification").is_none(),
        "the app shows its own notice"
    );
    assert!(!push.to_string().contains("pills"), "{push}");

    // The next push reuses the access token: no second grant.
    let second = send(&app, &chat.therapist_token, &chat.conversation, "and today").await;
    let again = fcm.reports.next(WAIT).await.expect("a second send");
    assert_eq!(again["endpoint"], "send", "no new token: {again}");
    assert_eq!(again["bearer"], push["bearer"]);
    assert_eq!(again["message"]["data"]["seq"], second.to_string());
    assert!(fcm.reports.next(Duration::from_secs(2)).await.is_none());
    assert_eq!(sent(&app, "fcm", "delivered").await, 2);
}
on_every_backend!(an_android_app_gets_a_data_message_sent_with_one_cached_access_token);

async fn fcm_busy_and_unavailable_are_retried_once_delivered_and_unregistered_is_gone(
    backend: Backend,
) {
    let mut fcm = FakeFcm::start(&[429, 503, 200, 404]).await;
    let app = pushing_app(backend, 100, |config| fcm.configure(config)).await;
    let chat = chat_with_device(&app, &fcm_device()).await;

    send(&app, &chat.therapist_token, &chat.conversation, "hello").await;
    let grant = fcm.reports.next(WAIT).await.expect("a token request");
    assert_eq!(grant["endpoint"], "token");
    assert_eq!(
        statuses(&mut fcm.reports, 3).await,
        [json!(429), json!(503), json!(200)]
    );
    assert!(
        fcm.reports.next(Duration::from_secs(3)).await.is_none(),
        "delivered once"
    );
    assert_eq!(sent(&app, "fcm", "retry").await, 2);

    send(
        &app,
        &chat.therapist_token,
        &chat.conversation,
        "still there?",
    )
    .await;
    assert_eq!(statuses(&mut fcm.reports, 1).await, [json!(404)]);
    until_no_subscription(&app, &chat.client_token).await;
    assert_eq!(sent(&app, "fcm", "gone").await, 1);
}
on_every_backend!(fcm_busy_and_unavailable_are_retried_once_delivered_and_unregistered_is_gone);

async fn an_iphone_gets_an_alert_over_http2_signed_with_a_reused_provider_token(backend: Backend) {
    let mut apns = FakeApns::start(&[]).await;
    let app = pushing_app(backend, 100, |config| apns.configure(config)).await;
    let (token, device) = apns_device();
    let chat = chat_with_device(&app, &device).await;

    let first = send(&app, &chat.therapist_token, &chat.conversation, SECRET).await;
    let push = apns.reports.next(WAIT).await.expect("a push");
    assert_eq!(push["http2"], true, "{push}");
    assert_eq!(push["device"], token);
    assert_eq!(
        push["valid"], true,
        "ES256, the key id, the team, under an hour old"
    );
    assert_eq!(push["topic"], fake_apns::TOPIC);
    assert_eq!(push["push_type"], "alert");
    assert_eq!(push["priority"], "10");
    assert_eq!(push["collapse_id"], chat.conversation);
    let expiration: i64 = push["expiration"]
        .as_str()
        .expect("set")
        .parse()
        .expect("a time");
    assert!(expiration > chrono::Utc::now().timestamp(), "{expiration}");
    assert_eq!(
        push["body"],
        json!({
            "aps": { "alert": { "loc-key": "NEW_MESSAGE" }, "badge": 1, "sound": "default" },
            "type": "message",
            "conversation_id": chat.conversation,
            "seq": first,
            "unread_total": 1,
            "count": 1,
        }),
        "an alert the app localises, and nothing a lock screen should not show"
    );
    assert!(!push.to_string().contains("pills"), "{push}");

    send(&app, &chat.therapist_token, &chat.conversation, "and today").await;
    let again = apns.reports.next(WAIT).await.expect("a second push");
    assert_eq!(
        again["provider_token"], push["provider_token"],
        "reused, not signed anew"
    );
    assert_eq!(again["body"]["aps"]["badge"], 2);
    assert_eq!(sent(&app, "apns", "delivered").await, 2);
}
on_every_backend!(an_iphone_gets_an_alert_over_http2_signed_with_a_reused_provider_token);

async fn apns_busy_and_unavailable_are_retried_once_delivered_and_unregistered_is_gone(
    backend: Backend,
) {
    let mut apns = FakeApns::start(&[429, 503, 200, 410]).await;
    let app = pushing_app(backend, 100, |config| apns.configure(config)).await;
    let chat = chat_with_device(&app, &apns_device().1).await;

    send(&app, &chat.therapist_token, &chat.conversation, "hello").await;
    assert_eq!(
        statuses(&mut apns.reports, 3).await,
        [json!(429), json!(503), json!(200)]
    );
    assert!(
        apns.reports.next(Duration::from_secs(3)).await.is_none(),
        "delivered once"
    );
    assert_eq!(sent(&app, "apns", "retry").await, 2);

    send(
        &app,
        &chat.therapist_token,
        &chat.conversation,
        "still there?",
    )
    .await;
    assert_eq!(statuses(&mut apns.reports, 1).await, [json!(410)]);
    until_no_subscription(&app, &chat.client_token).await;
    assert_eq!(sent(&app, "apns", "gone").await, 1);
}
on_every_backend!(apns_busy_and_unavailable_are_retried_once_delivered_and_unregistered_is_gone);

#[test]
fn provider_credentials_that_do_not_hold_refuse_to_start_naming_the_setting() {
    use super::fake::key_file;
    let base = || crate::helpers::test_config("sqlite::memory:");
    let refusal = |config: api::Config| config.push_settings().expect_err("refused");

    let partial = api::Config {
        apns_key_id: Some(fake_apns::KEY_ID.to_owned()),
        ..base()
    };
    assert!(refusal(partial).contains("PORTAL_APNS_KEY_FILE"));

    let not_a_key = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0IG5vdGVz\n-----END PRIVATE KEY-----\n";
    let apns = api::Config {
        apns_key_file: Some(key_file("AuthKey.p8", not_a_key)),
        apns_key_id: Some(fake_apns::KEY_ID.to_owned()),
        apns_team_id: Some(fake_apns::TEAM_ID.to_owned()),
        ..base()
    };
    let said = refusal(apns);
    assert!(said.contains("PORTAL_APNS_KEY_FILE"), "{said}");
    assert!(!said.contains("c2VjcmV0"), "never the key: {said}");

    let user_credentials = r#"{ "type": "authorized_user", "client_secret": "s3cr3t" }"#;
    let fcm = api::Config {
        fcm_service_account_file: Some(key_file("fcm.json", user_credentials)),
        ..base()
    };
    let said = refusal(fcm);
    assert!(said.contains("PORTAL_FCM_SERVICE_ACCOUNT_FILE"), "{said}");
    assert!(!said.contains("s3cr3t"), "never the key: {said}");

    let missing = api::Config {
        fcm_service_account_file: Some(std::env::temp_dir().join("no-such-service-account.json")),
        ..base()
    };
    assert!(refusal(missing).contains("no-such-service-account.json"));
}
