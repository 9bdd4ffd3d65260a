//! Access tokens: HS256 JWTs with every spec claim required and checked. The
//! algorithm is pinned, so `alg: none` and tokens signed any other way are refused.
//! Each token names its sign-in (`sid`, the refresh-token family), so signing out
//! ends the access tokens of that sign-in too, not only its refresh token.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainError;
use crate::actor::Role;

/// How access tokens are signed and what they must say.
#[derive(Clone)]
pub struct TokenSettings {
    /// HMAC key: the raw bytes of `PORTAL_JWT_SECRET`.
    pub secret: Vec<u8>,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// Clock skew tolerated between nodes and clients.
    pub leeway: Duration,
}

impl std::fmt::Debug for TokenSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSettings")
            .field("secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("leeway", &self.leeway)
            .finish()
    }
}

/// Why a token is refused when the reason is none of the client's business.
pub(crate) const INVALID: DomainError =
    DomainError::Unauthenticated("the access token is invalid or expired");

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    /// The sign-in this token belongs to.
    sid: Uuid,
    role: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    iss: String,
    aud: String,
    /// `totp_enrolment` on a staff token that reaches only enrolment; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

/// The `scope` of a token that reaches only two-factor enrolment.
const ENROLMENT_SCOPE: &str = "totp_enrolment";

/// What a valid token says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verified {
    pub(crate) account: Uuid,
    pub(crate) role: Role,
    pub(crate) sign_in: Uuid,
    /// The token reaches only two-factor enrolment.
    pub(crate) enrolment_only: bool,
    /// Unix seconds after which the token is refused (its `exp` plus the leeway).
    pub(crate) usable_until: i64,
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
    leeway: i64,
}

impl AccessTokens {
    pub(crate) fn new(settings: &TokenSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = settings.leeway.as_secs();
        Self {
            encoding: EncodingKey::from_secret(&settings.secret),
            decoding: DecodingKey::from_secret(&settings.secret),
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl: settings.access_ttl,
            leeway: i64::try_from(settings.leeway.as_secs()).unwrap_or(i64::MAX),
        }
    }

    /// A signed token for `account` in `role` within `sign_in`, and its lifetime in
    /// seconds.
    pub(crate) fn issue(
        &self,
        account: Uuid,
        role: Role,
        sign_in: Uuid,
        enrolment_only: bool,
    ) -> Result<(String, u64), DomainError> {
        let now = crate::clock::now().timestamp();
        let ttl = self.ttl.as_secs();
        let claims = Claims {
            sub: account,
            sid: sign_in,
            role: role.as_str().to_owned(),
            iat: now,
            nbf: now,
            exp: now + ttl as i64,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            scope: enrolment_only.then(|| ENROLMENT_SCOPE.to_owned()),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| DomainError::Unavailable)?;
        Ok((token, ttl))
    }

    /// What a valid token says. A token issued in the future (beyond the leeway) is
    /// refused like a forged one: no honest clock produced it.
    pub(crate) fn verify(&self, token: &str) -> Result<Verified, DomainError> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| INVALID)?
            .claims;
        if claims.iat > crate::clock::now().timestamp().saturating_add(self.leeway) {
            return Err(INVALID);
        }
        let role = Role::parse(&claims.role).ok_or(DomainError::Unauthenticated(
            "the access token names no known role",
        ))?;
        Ok(Verified {
            account: claims.sub,
            role,
            sign_in: claims.sid,
            enrolment_only: claims.scope.as_deref() == Some(ENROLMENT_SCOPE),
            usable_until: claims.exp.saturating_add(self.leeway),
        })
    }
}
