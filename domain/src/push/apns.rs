//! Apple Push Notification service with token-based authentication: an ES256
//! provider token signed with the team's `.p8` key, reused for most of the hour
//! Apple accepts it, over HTTP/2 (the only protocol APNs speaks).

use std::time::Duration;

use super::http::{self, Chosen};
use super::payload::Payload;
use super::provider::{Deliver, Outcome, Target};
use super::token_cache::TokenCache;
use crate::DomainError;

/// How long a provider token is used. Apple refuses one older than an hour and
/// throttles renewals more often than every 20 minutes.
const TOKEN_REUSE: Duration = Duration::from_secs(50 * 60);
/// How long APNs keeps a push for a device that is offline.
const TIME_TO_LIVE: Duration = Duration::from_secs(12 * 3600);
/// The alert the app localises: a fixed key, never the message or its sender.
const ALERT_KEY: &str = "NEW_MESSAGE";

/// The team's signing key for APNs. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct ApnsKey {
    signing: jsonwebtoken::EncodingKey,
    key_id: String,
    team_id: String,
}

impl std::fmt::Debug for ApnsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsKey")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .finish_non_exhaustive()
    }
}

impl ApnsKey {
    /// The key in an `AuthKey_<key id>.p8` file (PKCS#8 PEM of a P-256 key), with its
    /// key id and the team id, both ten characters as Apple issues them.
    pub fn from_p8(pem: &str, key_id: &str, team_id: &str) -> Result<Self, DomainError> {
        for (name, value) in [("key id", key_id), ("team id", team_id)] {
            if value.len() != 10 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(DomainError::Validation(format!(
                    "the APNs {name} must be 10 letters or digits"
                )));
            }
        }
        let secret = <p256::SecretKey as p256::pkcs8::DecodePrivateKey>::from_pkcs8_pem(pem)
            .map_err(|_| {
                DomainError::Validation("the APNs key is not a P-256 key in PKCS#8 PEM".into())
            })?;
        let der = p256::pkcs8::EncodePrivateKey::to_pkcs8_der(&secret)
            .map_err(|_| DomainError::Validation("the APNs key cannot be encoded".into()))?;
        Ok(Self {
            signing: jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()),
            key_id: key_id.to_owned(),
            team_id: team_id.to_owned(),
        })
    }

    /// A provider token: `{ alg: ES256, kid }` and `{ iss: team, iat }`.
    fn provider_token(&self) -> Result<String, Outcome> {
        #[derive(serde::Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            iat: i64,
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let claims = Claims {
            iss: &self.team_id,
            iat: crate::clock::now().timestamp(),
        };
        jsonwebtoken::encode(&header, &claims, &self.signing).map_err(|_| Outcome::Rejected)
    }
}

/// What this deployment sends to APNs with.
#[derive(Debug, Clone)]
pub struct ApnsSettings {
    pub key: ApnsKey,
    /// `https://api.push.apple.com` (`https://api.sandbox.push.apple.com` for
    /// development builds), or a local server in tests.
    pub base_url: url::Url,
}

#[derive(Debug)]
pub(crate) struct Apns {
    http: reqwest::Client,
    settings: ApnsSettings,
    provider_token: TokenCache,
}

/// Why APNs refused, from its answer's `reason`.
#[derive(serde::Deserialize)]
struct Refusal {
    reason: String,
}

impl Apns {
    pub(crate) fn new(settings: &ApnsSettings) -> Self {
        Self {
            http: http::client(Chosen::ByOperator, true),
            settings: settings.clone(),
            provider_token: TokenCache::default(),
        }
    }

    fn request(&self, target: &Target, payload: &Payload, token: &str) -> Option<reqwest::Request> {
        let topic = target.topic.as_deref()?;
        let url = self
            .settings
            .base_url
            .join(&format!("3/device/{}", target.address))
            .ok()?;
        let mut body = payload.object();
        body.insert(
            "aps".to_owned(),
            serde_json::json!({
                "alert": { "loc-key": ALERT_KEY },
                "badge": payload.unread_total,
                "sound": "default",
            }),
        );
        let expiration = crate::clock::now().timestamp() + TIME_TO_LIVE.as_secs() as i64;
        self.http
            .post(url)
            .header(reqwest::header::AUTHORIZATION, format!("bearer {token}"))
            .header("apns-topic", topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", "10")
            .header("apns-expiration", expiration.to_string())
            // A newer push for the same conversation replaces an undelivered one.
            .header("apns-collapse-id", payload.conversation_id.to_string())
            .json(&body)
            .build()
            .ok()
    }
}

#[async_trait::async_trait]
impl Deliver for Apns {
    async fn deliver(&self, target: &Target, payload: &Payload) -> Outcome {
        let sign = || async { Ok((self.settings.key.provider_token()?, TOKEN_REUSE)) };
        let token = match self.provider_token.get(sign).await {
            Ok(token) => token,
            Err(outcome) => return outcome,
        };
        let Some(request) = self.request(target, payload, &token) else {
            return Outcome::Rejected;
        };
        let answer = match http::exchange(&self.http, request).await {
            Ok(answer) => answer,
            Err(outcome) => return outcome,
        };
        let reason = serde_json::from_slice::<Refusal>(&answer.body).map(|r| r.reason);
        match (answer.status, reason.as_deref()) {
            // The token lapsed or was revoked: sign another for the retry.
            (403, Ok("ExpiredProviderToken" | "InvalidProviderToken")) => {
                self.provider_token.forget(&token).await;
                Outcome::RetryLater { after: None }
            }
            // A token that is not one of this app's devices will never be.
            (400, Ok("BadDeviceToken" | "DeviceTokenNotForTopic")) => Outcome::Gone,
            _ => answer.outcome(),
        }
    }
}
