//! Accounts, sign-in and the support tools: every request is someone, and who may do
//! what is enforced the same way through REST and GraphQL.

mod sign_in;
mod support;
mod tokens;
mod two_factor;

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
