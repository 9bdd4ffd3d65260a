//! Firebase Cloud Messaging, HTTP v1 API: an OAuth 2.0 access token obtained with the
//! service account's signed JWT (RFC 7523), cached until shortly before it expires,
//! and one data message per device.

use std::time::Duration;

use super::http::{self, Chosen};
use super::payload::Payload;
use super::provider::{Deliver, Outcome, Target};
use super::token_cache::TokenCache;
use crate::DomainError;

/// The OAuth scope that allows sending through FCM.
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// The lifetime asked for the signed assertion (Google allows at most an hour).
const ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);
/// How long before its stated expiry an access token is renewed.
const RENEW_EARLY: Duration = Duration::from_secs(60);
/// How long FCM keeps a push for a device that is offline.
const TIME_TO_LIVE: &str = "43200s";

/// A service account, as the JSON key file Google hands out describes it. Its
/// `Debug` never shows the key.
#[derive(Clone)]
pub struct FcmAccount {
    project_id: String,
    client_email: String,
    key_id: String,
    signing: jsonwebtoken::EncodingKey,
    token_uri: url::Url,
}

impl std::fmt::Debug for FcmAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmAccount")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct ServiceAccountFile {
    #[serde(rename = "type")]
    kind: String,
    project_id: String,
    private_key_id: String,
    private_key: String,
    client_email: String,
    token_uri: String,
}

impl FcmAccount {
    /// The account a service account key file describes.
    pub fn from_json(text: &str) -> Result<Self, DomainError> {
        let invalid = |why: &str| DomainError::Validation(format!("the FCM service account {why}"));
        let file: ServiceAccountFile = serde_json::from_str(text)
            .map_err(|e| invalid(&format!("file is not a service account key: {e}")))?;
        if file.kind != "service_account" {
            return Err(invalid("file's `type` is not `service_account`"));
        }
        let key =
            <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(&file.private_key)
                .map_err(|_| invalid("`private_key` is not an RSA key in PKCS#8 PEM"))?;
        // jsonwebtoken signs RS256 with a PKCS#1 key.
        let der = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(&key)
            .map_err(|_| invalid("`private_key` cannot be encoded"))?;
        let token_uri =
            url::Url::parse(&file.token_uri).map_err(|_| invalid("`token_uri` is not a URL"))?;
        Ok(Self {
            project_id: file.project_id,
            client_email: file.client_email,
            key_id: file.private_key_id,
            signing: jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
            token_uri,
        })
    }
}

/// What this deployment sends to FCM with.
#[derive(Debug, Clone)]
pub struct FcmSettings {
    pub account: FcmAccount,
    /// `https://fcm.googleapis.com`, or a local server in tests.
    pub base_url: url::Url,
}

#[derive(Debug)]
pub(crate) struct Fcm {
    http: reqwest::Client,
    account: FcmAccount,
    send_url: url::Url,
    access: TokenCache,
}

#[derive(serde::Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(serde::Deserialize)]
struct AccessToken {
    access_token: String,
    expires_in: u64,
}

impl Fcm {
    pub(crate) fn new(settings: &FcmSettings) -> Result<Self, DomainError> {
        let path = format!("v1/projects/{}/messages:send", settings.account.project_id);
        let send_url = settings
            .base_url
            .join(&path)
            .map_err(|_| DomainError::Validation("the FCM base URL cannot be joined".into()))?;
        Ok(Self {
            http: http::client(Chosen::ByOperator, false),
            account: settings.account.clone(),
            send_url,
            access: TokenCache::default(),
        })
    }

    /// A new access token and how long it may be used: a retry when Google's token
    /// endpoint cannot be reached or refuses the account (which is logged, as it
    /// needs the operator).
    async fn new_access_token(&self) -> Result<(String, Duration), Outcome> {
        let iat = crate::clock::now().timestamp().max(0) as u64;
        let claims = AssertionClaims {
            iss: &self.account.client_email,
            scope: SCOPE,
            aud: self.account.token_uri.as_str(),
            iat,
            exp: iat + ASSERTION_LIFETIME.as_secs(),
        };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(self.account.key_id.clone());
        let assertion = jsonwebtoken::encode(&header, &claims, &self.account.signing)
            .map_err(|_| Outcome::Rejected)?;
        let request = self
            .http
            .post(self.account.token_uri.clone())
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .build()
            .map_err(|_| Outcome::Rejected)?;
        let answer = http::exchange(&self.http, request).await?;
        let retry = Outcome::RetryLater {
            after: answer.retry_after,
        };
        if answer.status != 200 {
            tracing::warn!(
                status = answer.status,
                "the FCM token endpoint refused the service account; pushes to Android wait"
            );
            return Err(retry);
        }
        let token: AccessToken = serde_json::from_slice(&answer.body).map_err(|_| retry)?;
        let usable = Duration::from_secs(token.expires_in).saturating_sub(RENEW_EARLY);
        Ok((token.access_token, usable))
    }

    fn message(target: &Target, payload: &Payload) -> serde_json::Value {
        serde_json::json!({
            "message": {
                "token": target.address,
                // A data message: the app shows its own notice, with no content.
                "data": payload.string_fields(),
                "android": {
                    "priority": "high",
                    "ttl": TIME_TO_LIVE,
                    "collapse_key": payload.conversation_id.to_string(),
                },
            }
        })
    }
}

#[async_trait::async_trait]
impl Deliver for Fcm {
    async fn deliver(&self, target: &Target, payload: &Payload) -> Outcome {
        let access = match self.access.get(|| self.new_access_token()).await {
            Ok(token) => token,
            Err(outcome) => return outcome,
        };
        let Ok(request) = self
            .http
            .post(self.send_url.clone())
            .bearer_auth(&access)
            .json(&Self::message(target, payload))
            .build()
        else {
            return Outcome::Rejected;
        };
        match http::exchange(&self.http, request).await {
            // The access token was revoked or lapsed early: the next try gets another.
            Ok(answer) if answer.status == 401 => {
                self.access.forget(&access).await;
                Outcome::RetryLater { after: None }
            }
            Ok(answer) => answer.outcome(),
            Err(outcome) => outcome,
        }
    }
}
