//! Accounts, sign-in and the support tools: every request is someone, and who may do
//! what is enforced the same way through REST and GraphQL.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::actor::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TEST_JWT_SECRET, TestApp, TestDatabase, assert_problem, test_config,
};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims the app accepts, for an account signed in as `sign_in`; tests break one
/// at a time.
fn valid_claims(account: uuid::Uuid, sign_in: &str) -> Value {
    json!({
        "sub": account, "sid": sign_in, "role": "client", "iat": now(), "nbf": now(),
        "exp": now() + 600, "iss": "therapist-portal", "aud": "therapist-portal-api",
    })
}

/// The sign-in (`sid`) an access token belongs to.
fn sign_in_of(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWT payload");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
            .expect("JSON claims");
    claims["sid"].as_str().expect("a sid claim").to_owned()
}

fn sign(claims: &Value, key: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .expect("a token")
}

async fn assert_unauthorized(app: &TestApp, token: &str, why: &str) {
    let response = app.get_as("/v1/me", Some(token)).await;
    assert_eq!(response.status(), 401, "{why}");
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .is_ok_and(|v| v.starts_with("Bearer")),
        "{why}: WWW-Authenticate: Bearer"
    );
    assert_problem(response, 401, "unauthenticated").await;
}

async fn forged_or_broken_tokens_are_401_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.create_account(Role::Client).await;
    let sign_in = sign_in_of(&app.login(&account).await);
    let valid_claims = |account| valid_claims(account, &sign_in);
    let good = sign(&valid_claims(account.id), TEST_JWT_SECRET);
    assert_eq!(
        app.get_as("/v1/me", Some(&good)).await.status(),
        200,
        "the control token works"
    );

    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(valid_claims(account.id).to_string())
    );
    assert_unauthorized(&app, &unsigned, "alg none").await;
    assert_unauthorized(
        &app,
        &sign(
            &valid_claims(account.id),
            "another key of at least thirty-two bytes!!",
        ),
        "signed with another key",
    )
    .await;
    for (claim, value, why) in [
        ("aud", json!("someone-else"), "wrong aud"),
        ("iss", json!("someone-else"), "wrong iss"),
        ("exp", json!(now() - 120), "expired beyond the leeway"),
        ("nbf", json!(now() + 600), "nbf in the future"),
        ("iat", json!(now() + 600), "issued in the future"),
        ("role", json!("superuser"), "unknown role"),
        ("sid", json!(uuid::Uuid::now_v7()), "an unknown sign-in"),
    ] {
        let mut claims = valid_claims(account.id);
        claims[claim] = value;
        assert_unauthorized(&app, &sign(&claims, TEST_JWT_SECRET), why).await;
    }
    for claim in ["exp", "iss", "aud", "sub", "sid", "nbf", "iat", "role"] {
        let mut claims = valid_claims(account.id);
        claims.as_object_mut().expect("an object").remove(claim);
        assert_unauthorized(&app, &sign(&claims, TEST_JWT_SECRET), claim).await;
    }
    assert_unauthorized(&app, "not.a.jwt", "garbage").await;
    // A well-signed token for no account is invalid, not "disabled".
    let nobody = sign(&valid_claims(uuid::Uuid::now_v7()), TEST_JWT_SECRET);
    let response = app.get_as("/v1/me", Some(&nobody)).await;
    let problem = assert_problem(response, 401, "unauthenticated").await;
    assert_eq!(problem["detail"], "the access token is invalid or expired");
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", good.as_str()] {
        let response = app
            .http
            .get(format!("{}/v1/me", app.address))
            .header("authorization", header)
            .send()
            .await
            .expect("answered");
        assert_problem(response, 401, "unauthenticated").await;
    }
    assert_problem(app.get_as("/v1/me", None).await, 401, "unauthenticated").await;
    assert_problem(
        app.get_as("/v1/therapists", None).await,
        401,
        "unauthenticated",
    )
    .await;
}
on_every_backend!(forged_or_broken_tokens_are_401_problems);

async fn signup_login_me_and_refresh_rotation(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .post_json(
            "/v1/auth/signup",
            &json!({ "email": "Ada@Example.org", "password": "a long enough secret", "display_name": "Ada" }),
            None,
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.expect("json");
    assert_eq!(created["email"], "ada@example.org");
    assert_eq!(created["role"], "client");

    let login = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.post_json(
                "/v1/auth/login",
                &json!({ "email": email, "password": password }),
                None,
            )
            .await
        }
    };
    let pair: Value = login("ADA@example.org", "a long enough secret")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    let access = pair["access_token"].as_str().expect("access token");
    let me: Value = app
        .get_as("/v1/me", Some(access))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["email"], "ada@example.org");
    assert_eq!(me["display_name"], "Ada");

    // Wrong password and unknown email fail alike.
    let wrong = assert_problem(
        login("ada@example.org", "not the password").await,
        401,
        "unauthenticated",
    )
    .await;
    let unknown = assert_problem(
        login("nobody@example.org", "not the password").await,
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(wrong["detail"], unknown["detail"]);

    // Rotation: each refresh token works once; a spent one revokes the family.
    let first = pair["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let rotated: Value = app
        .post_json("/v1/auth/refresh", &json!({ "refresh_token": first }), None)
        .await
        .json()
        .await
        .expect("json");
    let second = rotated["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(first, second);
    let rotated_access = rotated["access_token"].as_str().expect("access");
    assert_eq!(
        app.get_as("/v1/me", Some(rotated_access)).await.status(),
        200
    );
    assert_problem(
        app.post_json("/v1/auth/refresh", &json!({ "refresh_token": first }), None)
            .await,
        401,
        "unauthenticated",
    )
    .await;
    assert_unauthorized(&app, rotated_access, "its family was revoked").await;
    assert_problem(
        app.post_json(
            "/v1/auth/refresh",
            &json!({ "refresh_token": second }),
            None,
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;

    // Logout revokes the sign-in.
    let pair: Value = login("ada@example.org", "a long enough secret")
        .await
        .json()
        .await
        .expect("json");
    let refresh = pair["refresh_token"].as_str().expect("refresh");
    let access = pair["access_token"].as_str().expect("access");
    let other_device: Value = login("ada@example.org", "a long enough secret")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(app.get_as("/v1/me", Some(access)).await.status(), 200);
    let response = app
        .post_json(
            "/v1/auth/logout",
            &json!({ "refresh_token": refresh }),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    // The sign-in's access tokens end with it (at once on the node that signed out),
    // another sign-in of the same account does not.
    assert_unauthorized(&app, access, "signed out").await;
    let other_access = other_device["access_token"].as_str().expect("access");
    assert_eq!(app.get_as("/v1/me", Some(other_access)).await.status(), 200);
    assert_problem(
        app.post_json(
            "/v1/auth/refresh",
            &json!({ "refresh_token": refresh }),
            None,
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
}
on_every_backend!(signup_login_me_and_refresh_rotation);

async fn signup_refuses_bad_input_and_duplicate_emails(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let signup = |body: Value| {
        let app = &app;
        async move { app.post_json("/v1/auth/signup", &body, None).await }
    };

    for email in ["not-an-email", "a@b", "two@@example.org", ""] {
        assert_problem(
            signup(
                json!({ "email": email, "password": "long enough password", "display_name": "X" }),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
    }
    let short = assert_problem(
        signup(json!({ "email": "x@example.org", "password": "short", "display_name": "X" })).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(short["detail"].as_str().expect("detail").contains("10"));
    assert_problem(
        signup(
            json!({ "email": "x@example.org", "password": "y".repeat(129), "display_name": "X" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        signup(json!({ "email": "x@example.org" })).await,
        400,
        "malformed_body",
    )
    .await;

    let ok = signup(json!({ "email": "Dup@Example.org", "password": "long enough password", "display_name": "X" })).await;
    assert_eq!(ok.status(), 201);
    assert_problem(
        signup(json!({ "email": "dup@EXAMPLE.org", "password": "long enough password", "display_name": "Y" })).await,
        409,
        "conflict",
    )
    .await;
}
on_every_backend!(signup_refuses_bad_input_and_duplicate_emails);

async fn sign_in_attempts_are_rate_limited(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let mut config = test_config(db.url());
    config.auth_rate_per_email = 3;
    let app = TestApp::boot(db, config).await;

    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let response = app
            .post_json(
                "/v1/auth/login",
                &json!({ "email": "victim@example.org", "password": "guess guess guess" }),
                None,
            )
            .await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            retry_after = response.headers().get("retry-after").cloned();
            assert_problem(response, 429, "rate_limited").await;
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    let seconds: u64 = retry_after
        .expect("Retry-After")
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&seconds));
}
on_every_backend!(sign_in_attempts_are_rate_limited);

async fn only_staff_reach_the_support_tools(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let therapist = app.token_for(Role::Therapist).await;
    let support = app.token_for(Role::Support).await;

    for path in [
        "/v1/admin/accounts",
        "/v1/admin/audit",
        "/v1/admin/therapists/export",
    ] {
        assert_problem(app.get(path).await, 403, "forbidden").await;
        assert_problem(app.get_as(path, Some(&therapist)).await, 403, "forbidden").await;
        assert_problem(app.get_as(path, None).await, 401, "unauthenticated").await;
    }
    assert_eq!(
        app.get_as("/v1/admin/accounts", Some(&support))
            .await
            .status(),
        200
    );
    assert_problem(
        app.get_as("/v1/admin/audit", Some(&support)).await,
        403,
        "forbidden",
    )
    .await;

    let body = app
        .graphql("{ accounts(first: 5) { nodes { email } } }", Value::Null)
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "forbidden",
        "{body}"
    );
    let body = app.graphql_as("{ me { email } }", Value::Null, None).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "unauthenticated",
        "{body}"
    );
}
on_every_backend!(only_staff_reach_the_support_tools);

async fn a_disabled_account_can_neither_sign_in_nor_use_its_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let support = app.token_for(Role::Support).await;
    let client = app.create_account(Role::Client).await;
    let token = app.login(&client).await;
    let refresh: Value = app
        .post_json(
            "/v1/auth/login",
            &json!({ "email": client.email, "password": client.password }),
            None,
        )
        .await
        .json()
        .await
        .expect("json");

    let response = app
        .post_json(
            &format!("/v1/admin/accounts/{}/disable", client.id),
            &json!({}),
            Some(&support),
        )
        .await;
    assert_eq!(response.status(), 200);

    assert_problem(
        app.get_as("/v1/me", Some(&token)).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/auth/login",
            &json!({ "email": client.email, "password": client.password }),
            None,
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/auth/refresh",
            &json!({ "refresh_token": refresh["refresh_token"] }),
            None,
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;

    let response = app
        .post_json(
            &format!("/v1/admin/accounts/{}/enable", client.id),
            &json!({}),
            Some(&support),
        )
        .await;
    assert_eq!(response.status(), 200);
    let token = app.login(&client).await;
    assert_eq!(app.get_as("/v1/me", Some(&token)).await.status(), 200);

    // Support staff cannot disable staff or themselves.
    let other_support = app.create_account(Role::Support).await;
    assert_problem(
        app.post_json(
            &format!("/v1/admin/accounts/{}/disable", other_support.id),
            &json!({}),
            Some(&support),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
}
on_every_backend!(a_disabled_account_can_neither_sign_in_nor_use_its_tokens);

async fn support_actions_are_audited_with_their_request_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let support_account = app.create_account(Role::Support).await;
    let support = app.login(&support_account).await;
    let admin = app.token_for(Role::Admin).await;

    let response = app
        .http
        .post(format!("{}/v1/admin/therapists", app.address))
        .bearer_auth(&support)
        .header("x-request-id", "req-create-1")
        .json(&json!({
            "email": "new.therapist@example.org", "password": "initial password 1",
            "display_name": "Dr. Nora Quist", "bio": "CBT", "specialties": ["Anxiety", "ocd"],
            "languages": ["de", "EN"], "city": "Wien", "country": "at",
            "accepting": "waitlist", "offers_online": true, "offers_in_person": false
        }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-request-id"], "req-create-1");
    let created: Value = response.json().await.expect("json");
    let therapist_id = created["therapist"]["id"]
        .as_str()
        .expect("a profile id")
        .to_owned();
    let account_id = created["account"]["id"]
        .as_str()
        .expect("an account id")
        .to_owned();
    assert_eq!(created["account"]["role"], "therapist");
    assert_eq!(
        created["therapist"]["specialties"],
        json!(["anxiety", "ocd"])
    );
    assert_eq!(created["therapist"]["country"], "AT");

    let response = app
        .http
        .patch(format!(
            "{}/v1/admin/therapists/{therapist_id}",
            app.address
        ))
        .bearer_auth(&support)
        .json(&json!({ "accepting": "accepting", "bio": "CBT and EMDR", "specialties": [] }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let profile = app
        .get_json(&format!("/v1/therapists/{therapist_id}"))
        .await;
    assert_eq!(profile["accepting"], "accepting");
    assert_eq!(profile["bio"], "CBT and EMDR");
    assert_eq!(profile["city"], "Wien", "fields not in the patch stay");
    assert_eq!(profile["specialties"], json!([]), "no specialties left");
    assert_eq!(profile["languages"], json!(["de", "en"]), "in code order");

    let response = app
        .http
        .patch(format!(
            "{}/v1/admin/therapists/{therapist_id}",
            app.address
        ))
        .bearer_auth(&support)
        .json(&json!({ "offers_online": false }))
        .send()
        .await
        .expect("answered");
    assert_problem(response, 422, "validation_failed").await;

    let client = app.create_account(Role::Client).await;
    app.post_json(
        &format!("/v1/admin/accounts/{}/disable", client.id),
        &json!({}),
        Some(&support),
    )
    .await;

    let audit: Value = app
        .get_as("/v1/admin/audit?limit=10", Some(&admin))
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action"),
                e["target_id"].as_str().expect("target"),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("account.disable", client.id.to_string().as_str()),
            ("therapist.update", therapist_id.as_str()),
            ("therapist.create", account_id.as_str()),
        ],
        "newest first; the failed edit left no entry"
    );
    for entry in audit["items"].as_array().expect("items") {
        assert_eq!(entry["actor_id"], support_account.id.to_string());
        assert!(entry["request_id"].is_string());
    }
    assert_eq!(audit["items"][2]["request_id"], "req-create-1");
}
on_every_backend!(support_actions_are_audited_with_their_request_id);

async fn account_search_pages_through_every_match(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let support = app.token_for(Role::Support).await;
    for _ in 0..7 {
        app.create_account(Role::Therapist).await;
    }

    let mut seen = Vec::new();
    let mut path = "/v1/admin/accounts?limit=3&role=therapist".to_owned();
    loop {
        let page: Value = app
            .get_as(&path, Some(&support))
            .await
            .json()
            .await
            .expect("json");
        for item in page["items"].as_array().expect("items") {
            assert_eq!(item["role"], "therapist");
            seen.push(item["email"].as_str().expect("email").to_owned());
        }
        match page["page"]["next_cursor"].as_str() {
            Some(next) => path = format!("/v1/admin/accounts?limit=3&role=therapist&after={next}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen.len(), 7);
    assert_eq!(seen, sorted, "by email");

    let page: Value = app
        .get_as("/v1/admin/accounts?email_prefix=SUPPORT-", Some(&support))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["items"].as_array().expect("items").len(), 1);

    let body = app
        .graphql_as(
            "{ accounts(first: 2, filter: { role: THERAPIST }) { edges { cursor node { email role } } pageInfo { hasNextPage } } }",
            Value::Null,
            Some(&support),
        )
        .await;
    assert_eq!(
        body["data"]["accounts"]["edges"][0]["node"]["role"], "THERAPIST",
        "{body}"
    );
    assert_eq!(body["data"]["accounts"]["pageInfo"]["hasNextPage"], true);
}
on_every_backend!(account_search_pages_through_every_match);

async fn graphql_signs_in_and_answers_me(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let body = app
        .graphql_as(
            r#"mutation { signup(email: "gql@example.org", password: "long enough password", displayName: "Gee") { email role } }"#,
            Value::Null,
            None,
        )
        .await;
    assert_eq!(body["data"]["signup"]["role"], "CLIENT", "{body}");
    let body = app
        .graphql_as(
            r#"mutation { login(email: "gql@example.org", password: "long enough password") { accessToken tokenType refreshToken } }"#,
            Value::Null,
            None,
        )
        .await;
    let token = body["data"]["login"]["accessToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    let body = app
        .graphql_as("{ me { email displayName } }", Value::Null, Some(&token))
        .await;
    assert_eq!(body["data"]["me"]["email"], "gql@example.org", "{body}");

    let body = app
        .graphql_as(
            r#"mutation { login(email: "gql@example.org", password: "wrong password!") { accessToken } }"#,
            Value::Null,
            None,
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "unauthenticated",
        "{body}"
    );
    let body = app
        .graphql_as("{ me { email } }", Value::Null, Some("forged"))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "unauthenticated",
        "{body}"
    );
}
on_every_backend!(graphql_signs_in_and_answers_me);

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
