//! Access tokens: HS256 JWTs with every spec claim required and checked. The
//! algorithm is pinned, so `alg: none` and tokens signed any other way are refused.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainError;
use crate::actor::Role;

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

/// How access tokens are signed and what they must say.
#[derive(Clone)]
pub struct TokenSettings {
    /// HMAC key: the raw bytes of `PORTAL_JWT_SECRET`.
    pub secret: Vec<u8>,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl std::fmt::Debug for TokenSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSettings")
            .field("secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    role: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    iss: String,
    aud: String,
}

/// Issues and verifies access tokens.
#[derive(Clone)]
pub(crate) struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl AccessTokens {
    pub(crate) fn new(settings: &TokenSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(&settings.secret),
            decoding: DecodingKey::from_secret(&settings.secret),
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl: settings.access_ttl,
        }
    }

    /// A signed token for `account` in `role`, and its lifetime in seconds.
    pub(crate) fn issue(&self, account: Uuid, role: Role) -> Result<(String, u64), DomainError> {
        let now = crate::clock::now().timestamp();
        let ttl = self.ttl.as_secs();
        let claims = Claims {
            sub: account,
            role: role.as_str().to_owned(),
            iat: now,
            nbf: now,
            exp: now + ttl as i64,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| DomainError::Unavailable)?;
        Ok((token, ttl))
    }

    /// The account and role a valid token names.
    pub(crate) fn verify(&self, token: &str) -> Result<(Uuid, Role), DomainError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| DomainError::Unauthenticated("the access token is invalid or expired"))?;
        let role = Role::parse(&data.claims.role).ok_or(DomainError::Unauthenticated(
            "the access token names no known role",
        ))?;
        Ok((data.claims.sub, role))
    }
}
