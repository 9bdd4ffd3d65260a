//! Guessing a password must not lock its owner out: limits are per client address and
//! per email from one address, with a high per-email ceiling, and a device that
//! signed in before (it sends its valid refresh token) is let through.

use std::net::{IpAddr, Ipv4Addr};

use domain::actor::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDatabase, assert_problem, test_config};

/// A client whose connections come from `127.0.0.<n>` (all loopback, all local).
fn from_address(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .build()
        .expect("a client")
}

async fn post(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    client
        .post(format!("{}{path}", app.address))
        .json(body)
        .send()
        .await
        .expect("answered")
}

/// The production defaults: 30 attempts a minute per address, 10 per email from one
/// address, 100 per email from everywhere.
async fn with_default_limits(backend: Backend) -> TestApp {
    let db = TestDatabase::create(backend).await;
    let mut config = test_config(db.url());
    config.auth_rate_per_ip = 30;
    config.auth_rate_per_email = 10;
    config.auth_rate_per_email_ceiling = 100;
    TestApp::boot(db, config).await
}

async fn guessing_a_password_does_not_lock_its_owner_out(backend: Backend) {
    let app = with_default_limits(backend).await;
    let owner = app.create_account(Role::Client).await;
    let (guesser, elsewhere) = (from_address(1), from_address(2));
    let credentials = json!({ "email": owner.email, "password": owner.password });
    // The owner signed in on this device before: it holds a refresh token.
    let earlier: Value = post(&guesser, &app, "/v1/auth/login", &credentials)
        .await
        .json()
        .await
        .expect("a token pair");

    let wrong = json!({ "email": owner.email, "password": "a wrong guess, again" });
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(
            post(&guesser, &app, "/v1/auth/login", &wrong)
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(
        statuses.iter().all(|s| [401, 429].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.last(),
        Some(&429),
        "guessing from one address stops"
    );

    let response = post(&elsewhere, &app, "/v1/auth/login", &credentials).await;
    assert_eq!(
        response.status(),
        200,
        "the owner, from another address, at once"
    );
    let response = post(&guesser, &app, "/v1/auth/login", &credentials).await;
    assert_problem(response, 429, "rate_limited").await;
    let mut with_device = credentials.clone();
    with_device["refresh_token"] = earlier["refresh_token"].clone();
    let response = post(&guesser, &app, "/v1/auth/login", &with_device).await;
    assert_eq!(
        response.status(),
        200,
        "the owner's known device, from the guesser's address"
    );

    // Another account's refresh token proves nothing about this email.
    let stranger = app.create_account(Role::Client).await;
    let stranger_pair: Value = post(
        &elsewhere,
        &app,
        "/v1/auth/login",
        &json!({ "email": stranger.email, "password": stranger.password }),
    )
    .await
    .json()
    .await
    .expect("a token pair");
    let mut borrowed = wrong.clone();
    borrowed["refresh_token"] = stranger_pair["refresh_token"].clone();
    let response = post(&guesser, &app, "/v1/auth/login", &borrowed).await;
    assert_problem(response, 429, "rate_limited").await;

    // GraphQL takes the same proof.
    let graphql = json!({
        "query": "mutation($e: String!, $p: String!, $r: String) { login(email: $e, password: $p, refreshToken: $r) { accessToken } }",
        "variables": { "e": owner.email, "p": owner.password, "r": with_device["refresh_token"] },
    });
    let answer: Value = post(&guesser, &app, "/graphql", &graphql)
        .await
        .json()
        .await
        .expect("json");
    assert!(
        answer["data"]["login"]["accessToken"].is_string(),
        "{answer}"
    );
}
on_every_backend!(guessing_a_password_does_not_lock_its_owner_out);

async fn sign_up_and_sign_in_share_one_budget_per_address(backend: Backend) {
    let app = with_default_limits(backend).await;
    let client = from_address(3);
    let started = std::time::Instant::now();
    let mut statuses = Vec::new();
    for n in 0..15 {
        let signup = json!({
            "email": format!("new-{n}@example.org"), "password": "long enough secret",
            "display_name": "New",
        });
        statuses.push(
            post(&client, &app, "/v1/auth/signup", &signup)
                .await
                .status()
                .as_u16(),
        );
    }
    for n in 0..15 {
        let login =
            json!({ "email": format!("nobody-{n}@example.org"), "password": "long enough secret" });
        statuses.push(
            post(&client, &app, "/v1/auth/login", &login)
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(statuses[..15].iter().all(|s| *s == 201), "{statuses:?}");
    assert!(statuses[15..].iter().all(|s| *s == 401), "{statuses:?}");
    // The shared budget of 30 is spent: the next attempt is refused, unless the time
    // the 30 took (hashing is slow on a loaded machine) refilled some of it, one
    // attempt every 2 s; those few may pass, no more.
    let login = json!({ "email": "someone-else@example.org", "password": "long enough secret" });
    let mut past_the_budget = 0;
    loop {
        let response = post(&client, &app, "/v1/auth/login", &login).await;
        if response.status() == 429 {
            assert_problem(response, 429, "rate_limited").await;
            break;
        }
        past_the_budget += 1;
        let refilled = (started.elapsed().as_secs_f64() / 2.0).ceil();
        assert!(
            f64::from(past_the_budget) <= refilled,
            "{past_the_budget} attempts past the budget after {:?}",
            started.elapsed()
        );
    }
}
on_every_backend!(sign_up_and_sign_in_share_one_budget_per_address);

async fn a_known_device_signs_in_past_the_per_email_ceiling(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let mut config = test_config(db.url());
    config.auth_rate_per_email = 10;
    config.auth_rate_per_email_ceiling = 30;
    let app = TestApp::boot(db, config).await;
    let owner = app.create_account(Role::Client).await;
    let credentials = json!({ "email": owner.email, "password": owner.password });
    let device: Value = post(&from_address(10), &app, "/v1/auth/login", &credentials)
        .await
        .json()
        .await
        .expect("a token pair");

    // Guessers on four addresses exhaust the email's ceiling between them.
    let wrong = json!({ "email": owner.email, "password": "a wrong guess, again" });
    for n in 11..15 {
        let guesser = from_address(n);
        for _ in 0..10 {
            post(&guesser, &app, "/v1/auth/login", &wrong).await;
        }
    }
    let response = post(&from_address(20), &app, "/v1/auth/login", &credentials).await;
    assert_problem(response, 429, "rate_limited").await;
    let mut with_device = credentials.clone();
    with_device["refresh_token"] = device["refresh_token"].clone();
    let response = post(&from_address(20), &app, "/v1/auth/login", &with_device).await;
    assert_eq!(
        response.status(),
        200,
        "the owner's known device is not held by the ceiling"
    );
}
on_every_backend!(a_known_device_signs_in_past_the_per_email_ceiling);
