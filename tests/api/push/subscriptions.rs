//! One row per device, owned by one account, the same in REST and GraphQL.

use domain::actor::Role;
use serde_json::{Value, json};

use super::{browser_subscription, register, unique_endpoint};
use crate::helpers::{Backend, TestApp, assert_problem};

async fn list(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get_as("/v1/push/subscriptions", Some(token)).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("a list")
}

async fn the_same_device_is_one_row_listed_without_its_secrets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let device = browser_subscription(&unique_endpoint());
    let (status, first) = register(&app, &device, &app.token).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["kind"], "webpush");
    assert_eq!(first["endpoint_origin"], "https://push.example.org");
    let (status, again) = register(&app, &device, &app.token).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], first["id"], "updated, not duplicated");

    let listed = list(&app, &app.token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], first["id"]);
    let text = serde_json::to_string(&listed).expect("json");
    for secret in ["endpoint\"", "/send/", "p256dh", "auth"] {
        assert!(!text.contains(secret), "{secret} is shown: {text}");
    }

    let path = format!(
        "{}/v1/push/subscriptions/{}",
        app.address,
        first["id"].as_str().expect("an id")
    );
    let deleted = app.http.delete(&path).bearer_auth(&app.token).send().await;
    assert_eq!(deleted.expect("answered").status(), 204);
    assert!(list(&app, &app.token).await.is_empty());
    let again = app.http.delete(&path).bearer_auth(&app.token).send().await;
    assert_problem(again.expect("answered"), 404, "not_found").await;
}
on_every_backend!(the_same_device_is_one_row_listed_without_its_secrets);

async fn another_accounts_device_is_neither_listed_nor_removable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, mine) = register(&app, &browser_subscription(&unique_endpoint()), &app.token).await;
    let other = app.token_for(Role::Client).await;
    assert!(list(&app, &other).await.is_empty());
    let path = format!(
        "{}/v1/push/subscriptions/{}",
        app.address,
        mine["id"].as_str().expect("an id")
    );
    let response = app.http.delete(&path).bearer_auth(&other).send().await;
    assert_problem(response.expect("answered"), 404, "not_found").await;
    assert_eq!(list(&app, &app.token).await.len(), 1, "still there");
}
on_every_backend!(another_accounts_device_is_neither_listed_nor_removable);

async fn a_device_registered_again_by_another_account_moves_to_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let device = browser_subscription(&unique_endpoint());
    let (_, first) = register(&app, &device, &app.token).await;
    let next_user = app.token_for(Role::Client).await;
    let (status, moved) = register(&app, &device, &next_user).await;
    assert_eq!(status, 201, "new to this account: {moved}");
    assert_eq!(moved["id"], first["id"], "still one row");
    assert!(
        list(&app, &app.token).await.is_empty(),
        "gone from the first account"
    );
    assert_eq!(list(&app, &next_user).await.len(), 1);

    // The same endpoint with other keys is not that browser: refused, not moved.
    let impostor = browser_subscription(device["endpoint"].as_str().expect("endpoint"));
    let third = app.token_for(Role::Client).await;
    let (status, problem) = register(&app, &impostor, &third).await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .starts_with("endpoint:")
    );
    assert_eq!(
        list(&app, &next_user).await.len(),
        1,
        "still the second account's"
    );
}
on_every_backend!(a_device_registered_again_by_another_account_moves_to_it);

async fn an_account_holds_at_most_twenty_devices(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for _ in 0..domain::limits::MAX_PUSH_SUBSCRIPTIONS {
        let (status, body) =
            register(&app, &browser_subscription(&unique_endpoint()), &app.token).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, problem) =
        register(&app, &browser_subscription(&unique_endpoint()), &app.token).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "validation_failed");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("at most 20"),
        "{problem}"
    );
    // A device already registered still updates at the limit.
    let listed = list(&app, &app.token).await;
    assert_eq!(listed.len(), 20);
}
on_every_backend!(an_account_holds_at_most_twenty_devices);

async fn graphql_registers_lists_and_removes_the_same_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let device = browser_subscription(&unique_endpoint());
    let register = r"mutation($input: PushSubscriptionInput!) {
        registerPushSubscription(input: $input) { created subscription { id kind endpointOrigin } }
    }";
    let input = json!({ "webPush": {
        "endpoint": device["endpoint"], "expirationTime": null, "keys": device["keys"],
    }});
    let first = app.graphql(register, json!({ "input": input })).await;
    let result = &first["data"]["registerPushSubscription"];
    assert_eq!(result["created"], true, "{first}");
    assert_eq!(result["subscription"]["kind"], "WEB_PUSH");
    let id = result["subscription"]["id"].clone();

    // REST sees the row GraphQL made, and registering it there is an update.
    let (status, rest) = super::register(&app, &device, &app.token).await;
    assert_eq!((status, &rest["id"]), (200, &id));

    let listed = app
        .graphql("{ pushSubscriptions { id } vapidPublicKey }", json!({}))
        .await;
    assert_eq!(listed["data"]["pushSubscriptions"], json!([{ "id": id }]));
    let key = app.get_json("/v1/push/vapid-public-key").await;
    assert_eq!(listed["data"]["vapidPublicKey"], key["public_key"]);

    let removed = app
        .graphql(
            "mutation($id: UUID!) { deletePushSubscription(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(removed["data"]["deletePushSubscription"], true, "{removed}");
    let again = app
        .graphql(
            "mutation($id: UUID!) { deletePushSubscription(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "not_found",
        "{again}"
    );
}
on_every_backend!(graphql_registers_lists_and_removes_the_same_rows);

/// The key is a P-256 point, uncompressed, in base64url with no padding: what
/// `pushManager.subscribe` takes as `applicationServerKey`.
#[tokio::test]
async fn the_vapid_public_key_is_an_uncompressed_p256_point() {
    use base64::Engine as _;
    let app = TestApp::spawn(Backend::Sqlite).await;
    let key = app.get_json("/v1/push/vapid-public-key").await;
    let text = key["public_key"].as_str().expect("a key");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url without padding");
    assert_eq!(bytes.len(), 65);
    p256::PublicKey::from_sec1_bytes(&bytes).expect("a point on P-256");
    let anonymous = app.get_as("/v1/push/vapid-public-key", None).await;
    assert_problem(anonymous, 401, "unauthenticated").await;
}
