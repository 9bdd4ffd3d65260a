//! Bearer tokens: forged, broken, expired, of no account or no live sign-in: all 401 problems.

use super::*;

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
