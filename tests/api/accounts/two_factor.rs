//! Two-factor sign-in (RFC 6238): codes are computed by pyotp, an implementation
//! nobody here wrote, from the secret and URI the API hands out.

use super::*;

/// The code pyotp gives for `secret` at `offset_secs` from now.
fn pyotp_code(secret: &str, offset_secs: i64) -> String {
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import pyotp, sys, time; print(pyotp.TOTP(sys.argv[1]).at(int(time.time()) + int(sys.argv[2])))",
            secret,
            &offset_secs.to_string(),
        ])
        .output()
        .expect("python3 runs (pip install pyotp)");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .expect("text")
        .trim()
        .to_owned()
}

/// The secret pyotp reads from an `otpauth://` URI.
fn pyotp_secret_of(uri: &str) -> String {
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import pyotp, sys; t = pyotp.parse_uri(sys.argv[1]); print(t.secret, t.digits, t.interval, t.issuer)",
            uri,
        ])
        .output()
        .expect("python3 runs (pip install pyotp)");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .expect("text")
        .trim()
        .to_owned()
}

async fn login(
    app: &TestApp,
    account: &crate::helpers::TestAccount,
    extra: Value,
) -> reqwest::Response {
    let mut body = json!({ "email": account.email, "password": account.password });
    body.as_object_mut()
        .expect("an object")
        .extend(extra.as_object().expect("an object").clone());
    app.post_json("/v1/auth/login", &body, None).await
}

/// Starts and confirms enrolment as `token`; the secret and the recovery codes.
/// Enrols: the secret, the recovery codes and the code the confirmation spent.
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>, String) {
    let started = app.post_json("/v1/me/totp", &json!({}), Some(token)).await;
    assert_eq!(started.status(), 200);
    let started: Value = started.json().await.expect("json");
    let secret = started["secret"].as_str().expect("a secret").to_owned();
    let uri = started["uri"].as_str().expect("a uri");
    assert_eq!(
        pyotp_secret_of(uri),
        format!("{secret} 6 30 Therapist Portal"),
        "{uri}"
    );
    let spent = pyotp_code(&secret, 0);
    let confirmed = app
        .post_json(
            "/v1/me/totp/confirm",
            &json!({ "code": spent }),
            Some(token),
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    let confirmed: Value = confirmed.json().await.expect("json");
    let codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|code| code.as_str().expect("text").to_owned())
        .collect();
    (secret, codes, spent)
}

async fn enrolment_login_with_codes_and_removal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.create_account(Role::Therapist).await;
    let token = app.login(&account).await;

    // Confirming before starting, or with a wrong code, turns nothing on.
    let early = app
        .post_json(
            "/v1/me/totp/confirm",
            &json!({ "code": "123456" }),
            Some(&token),
        )
        .await;
    assert_problem(early, 409, "conflict").await;
    let (secret, recovery, spent) = enrol(&app, &token).await;
    assert_eq!(recovery.len(), 10);
    let mut distinct = recovery.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10, "{recovery:?}");
    let again = app.post_json("/v1/me/totp", &json!({}), Some(&token)).await;
    assert_problem(again, 409, "conflict").await;

    // The password alone is no longer enough; a wrong code, the code the enrolment
    // spent, or both factors at once are refused.
    assert_problem(login(&app, &account, json!({})).await, 401, "totp_required").await;
    let wrong = login(&app, &account, json!({ "totp": "000000" })).await;
    assert_problem(wrong, 401, "invalid_totp").await;
    // (The very code, not "now's": the clock may have reached the next step.)
    let spent = login(&app, &account, json!({ "totp": spent })).await;
    assert_problem(spent, 401, "invalid_totp").await;
    let both = json!({ "totp": pyotp_code(&secret, 30), "recovery_code": recovery[0] });
    assert_problem(login(&app, &account, both).await, 422, "validation_failed").await;
    // A wrong password says nothing about the second factor.
    let mut stranger = json!({ "email": account.email, "password": "not the password!" });
    stranger["totp"] = json!(pyotp_code(&secret, 30));
    let response = app.post_json("/v1/auth/login", &stranger, None).await;
    assert_problem(response, 401, "unauthenticated").await;

    // The next step's code (within the drift allowed) signs in once.
    let next = pyotp_code(&secret, 30);
    let response = login(&app, &account, json!({ "totp": next })).await;
    assert_eq!(response.status(), 200);
    let reused = login(&app, &account, json!({ "totp": next })).await;
    assert_problem(reused, 401, "invalid_totp").await;

    // Each recovery code works once, typed in any case.
    let upper = recovery[1].to_uppercase();
    let response = login(&app, &account, json!({ "recovery_code": upper })).await;
    assert_eq!(response.status(), 200);
    let reused = login(&app, &account, json!({ "recovery_code": recovery[1] })).await;
    assert_problem(reused, 401, "invalid_totp").await;

    // Removal takes a factor; afterwards the password alone signs in again.
    let remove = |body: Value| {
        let (app, token) = (&app, &token);
        async move {
            app.http
                .delete(format!("{}/v1/me/totp", app.address))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("answered")
        }
    };
    assert_problem(remove(json!({})).await, 422, "validation_failed").await;
    let wrong = remove(json!({ "recovery_code": recovery[1] })).await;
    assert_problem(wrong, 401, "invalid_totp").await;
    assert_eq!(
        remove(json!({ "recovery_code": recovery[2] }))
            .await
            .status(),
        204
    );
    assert_eq!(login(&app, &account, json!({})).await.status(), 200);
    assert_problem(remove(json!({ "code": "123456" })).await, 409, "conflict").await;
}
on_every_backend!(enrolment_login_with_codes_and_removal);

async fn staff_without_two_factor_reach_only_enrolment(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let config = api::Config {
        require_staff_2fa: Some(true),
        ..test_config(db.url())
    };
    let app = TestApp::boot(db, config).await;
    // Clients are not held by the staff rule.
    assert_eq!(app.get("/v1/me").await.status(), 200);

    let admin = app.create_account(Role::Admin).await;
    let pair = app.sign_in(&admin).await;
    let confined = pair["access_token"].as_str().expect("a token");
    for path in ["/v1/me", "/v1/admin/accounts", "/v1/conversations"] {
        let response = app.get_as(path, Some(confined)).await;
        assert_problem(response, 403, "totp_enrolment_required").await;
    }
    let body = app
        .graphql_as("{ me { email } }", Value::Null, Some(confined))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "totp_enrolment_required",
        "{body}"
    );
    let (secret, _, _) = enrol(&app, confined).await;

    // The sign-in's next token reaches everything; so does a new sign-in with a code.
    let refresh = json!({ "refresh_token": pair["refresh_token"] });
    let renewed: Value = app
        .post_json("/v1/auth/refresh", &refresh, None)
        .await
        .json()
        .await
        .expect("json");
    let whole = renewed["access_token"].as_str().expect("a token");
    assert_eq!(
        app.get_as("/v1/admin/accounts", Some(whole)).await.status(),
        200
    );
    let response = login(&app, &admin, json!({ "totp": pyotp_code(&secret, 30) })).await;
    let fresh: Value = response.json().await.expect("json");
    let fresh = fresh["access_token"].as_str().expect("a token");
    assert_eq!(
        app.get_as("/v1/admin/accounts", Some(fresh)).await.status(),
        200
    );
}
on_every_backend!(staff_without_two_factor_reach_only_enrolment);

async fn codes_are_rate_limited(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let config = api::Config {
        auth_rate_per_email: 3,
        ..test_config(db.url())
    };
    let app = TestApp::boot(db, config).await;
    let started = app
        .post_json("/v1/me/totp", &json!({}), Some(&app.token))
        .await;
    assert_eq!(started.status(), 200);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = app
            .post_json(
                "/v1/me/totp/confirm",
                &json!({ "code": "000000" }),
                Some(&app.token),
            )
            .await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
}
on_every_backend!(codes_are_rate_limited);

async fn the_graphql_door_enrols_and_signs_in_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = app.create_account(Role::Client).await;
    let token = app.login(&account).await;
    let body = app
        .graphql_as(
            "mutation { startTotpEnrolment { secret uri } }",
            Value::Null,
            Some(&token),
        )
        .await;
    let secret = body["data"]["startTotpEnrolment"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let body = app
        .graphql_as(
            "mutation($code: String!) { confirmTotp(code: $code) { recoveryCodes } }",
            json!({ "code": pyotp_code(&secret, 0) }),
            Some(&token),
        )
        .await;
    let codes = body["data"]["confirmTotp"]["recoveryCodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(codes.len(), 10);

    let login = "mutation($email: String!, $password: String!, $totp: String) { login(email: $email, password: $password, totp: $totp) { accessToken } }";
    let vars = |totp: Option<String>| json!({ "email": account.email, "password": account.password, "totp": totp });
    let body = app.graphql_as(login, vars(None), None).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "totp_required",
        "{body}"
    );
    let body = app
        .graphql_as(login, vars(Some("000000".into())), None)
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "invalid_totp",
        "{body}"
    );
    let body = app
        .graphql_as(login, vars(Some(pyotp_code(&secret, 30))), None)
        .await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
    let body = app
        .graphql_as(
            "mutation($code: String) { removeTotp(recoveryCode: $code) }",
            json!({ "code": codes[0] }),
            Some(&token),
        )
        .await;
    assert_eq!(body["data"]["removeTotp"], true, "{body}");
}
on_every_backend!(the_graphql_door_enrols_and_signs_in_alike);
