//! Web Push end to end: a message reaches a browser's push service on loopback,
//! encrypted for the browser's keys, signed with the published VAPID key, and saying
//! nothing a lock screen should not show. Retries, gone devices and suppression.

use std::time::Duration;

use serde_json::{Value, json};

use super::receiver::Receiver;
use super::{pushing_app, register, send, sent, set_muted, until_no_subscription};
use crate::helpers::Backend;
use crate::realtime::chat;

const WAIT: Duration = Duration::from_secs(15);

async fn a_push_reaches_the_browser_encrypted_signed_and_without_content(backend: Backend) {
    let app = pushing_app(backend, 100, |config| config).await;
    let mut browser = Receiver::start(&[]).await;
    let chat = chat(&app).await;
    let (status, _) = register(&app, &browser.subscription("client"), &chat.client_token).await;
    assert_eq!(status, 201);

    let secret = "I have not slept since the funeral";
    let seq = send(&app, &chat.therapist_token, &chat.conversation, secret).await;
    let push = browser.next(WAIT).await.expect("a push arrives");

    assert_eq!(push["path"], "/push/client");
    assert_eq!(push["content_encoding"], "aes128gcm");
    assert_eq!(
        push["payload"],
        json!({
            "type": "message",
            "conversation_id": chat.conversation,
            "seq": seq,
            "unread_total": 1,
            "count": 1,
        }),
        "{push}"
    );
    let key = app.get_json("/v1/push/vapid-public-key").await;
    assert_eq!(
        push["k"], key["public_key"],
        "signed with the published key"
    );
    assert_eq!(push["vapid"], true, "{push}");
    assert_eq!(push["aud"], browser.origin());
    assert_eq!(push["alg"], "ES256");
    let text = push.to_string();
    assert!(!text.contains("funeral"), "the body never leaves: {text}");
    let name = chat.therapist.email.split('@').next().expect("a name");
    assert!(!text.contains(name), "nor who sent it: {text}");

    assert_eq!(sent(&app, "webpush", "delivered").await, 1);
    assert!(browser.next(Duration::from_secs(2)).await.is_none(), "once");
}
on_every_backend!(a_push_reaches_the_browser_encrypted_signed_and_without_content);

async fn busy_and_failing_push_services_are_retried_until_delivered_once(backend: Backend) {
    let app = pushing_app(backend, 100, |config| config).await;
    let mut browser = Receiver::start(&[429, 503]).await;
    let chat = chat(&app).await;
    register(&app, &browser.subscription("client"), &chat.client_token).await;
    send(&app, &chat.therapist_token, &chat.conversation, "hello").await;

    let statuses: Vec<Value> = [
        browser.next(WAIT).await,
        browser.next(WAIT).await,
        browser.next(WAIT).await,
    ]
    .into_iter()
    .map(|report| report.expect("a try")["status"].clone())
    .collect();
    assert_eq!(statuses, [json!(429), json!(503), json!(201)]);
    assert!(
        browser.next(Duration::from_secs(3)).await.is_none(),
        "delivered once"
    );
    assert_eq!(sent(&app, "webpush", "retry").await, 2);
    assert_eq!(sent(&app, "webpush", "delivered").await, 1);
}
on_every_backend!(busy_and_failing_push_services_are_retried_until_delivered_once);

async fn a_device_the_push_service_calls_gone_is_removed(backend: Backend) {
    let app = pushing_app(backend, 100, |config| config).await;
    let mut browser = Receiver::start(&[410]).await;
    let chat = chat(&app).await;
    register(&app, &browser.subscription("client"), &chat.client_token).await;
    send(&app, &chat.therapist_token, &chat.conversation, "hello").await;
    assert_eq!(browser.next(WAIT).await.expect("a try")["status"], 410);
    until_no_subscription(&app, &chat.client_token).await;
    assert_eq!(sent(&app, "webpush", "gone").await, 1);
}
on_every_backend!(a_device_the_push_service_calls_gone_is_removed);

async fn only_unread_unmuted_messages_to_others_are_pushed_and_bursts_collapse(backend: Backend) {
    let app = pushing_app(backend, 1_500, |config| config).await;
    let mut browser = Receiver::start(&[]).await;
    let chat = chat(&app).await;
    register(&app, &browser.subscription("client"), &chat.client_token).await;
    register(
        &app,
        &browser.subscription("therapist"),
        &chat.therapist_token,
    )
    .await;

    // Read within the delay: no push. The sender never gets one.
    let seq = send(
        &app,
        &chat.therapist_token,
        &chat.conversation,
        "are you there?",
    )
    .await;
    let read = app
        .post_json(
            &format!("/v1/conversations/{}/read", chat.conversation),
            &json!({ "seq": seq }),
            Some(&chat.client_token),
        )
        .await;
    assert_eq!(read.status(), 200);
    assert_eq!(
        browser.all_within(Duration::from_secs(3)).await,
        Vec::<Value>::new()
    );

    // Five quick messages: one push, for the last, counting five.
    let mut last = 0;
    for n in 0..5 {
        last = send(
            &app,
            &chat.therapist_token,
            &chat.conversation,
            &format!("part {n}"),
        )
        .await;
    }
    let pushes = browser.all_within(Duration::from_secs(5)).await;
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0]["path"], "/push/client");
    assert_eq!(pushes[0]["payload"]["seq"], last);
    assert_eq!(pushes[0]["payload"]["count"], 5);
    assert_eq!(pushes[0]["payload"]["unread_total"], 5);

    // Muted: nothing.
    let muted = set_muted(&app, &chat.client_token, &chat.conversation, true).await;
    assert_eq!(muted.status(), 200);
    send(&app, &chat.therapist_token, &chat.conversation, "muted").await;
    assert_eq!(
        browser.all_within(Duration::from_secs(3)).await,
        Vec::<Value>::new()
    );

    // The client answers: the therapist's device gets it.
    send(&app, &chat.client_token, &chat.conversation, "yes").await;
    let push = browser.next(WAIT).await.expect("a push to the therapist");
    assert_eq!(push["path"], "/push/therapist");
}
on_every_backend!(only_unread_unmuted_messages_to_others_are_pushed_and_bursts_collapse);
