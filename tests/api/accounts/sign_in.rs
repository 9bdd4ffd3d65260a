//! Signing up and in: rotation of refresh tokens, bad input, rate limits, the GraphQL door.

use super::*;

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
