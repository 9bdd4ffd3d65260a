//! Web Push (RFC 8030) with `aes128gcm` payload encryption (RFC 8291, by the
//! `web-push-native` crate) and a VAPID signature (RFC 8292, an ES256 JWT signed by
//! `jsonwebtoken`).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use web_push_native::{Auth, WebPushBuilder};

use super::http;
use super::payload::Payload;
use super::provider::{Deliver, Outcome, Target};
use super::vapid::VapidKey;

/// How long a push service keeps an undelivered push (its `TTL`).
const TIME_TO_LIVE: Duration = Duration::from_secs(12 * 3600);

/// How long a VAPID token is valid (RFC 8292 allows up to 24 hours).
const VAPID_TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug)]
pub(crate) struct WebPush {
    http: reqwest::Client,
    vapid: VapidKey,
    subject: String,
    allow_loopback: bool,
}

#[derive(serde::Serialize)]
struct VapidClaims<'a> {
    aud: &'a str,
    exp: u64,
    sub: &'a str,
}

impl WebPush {
    pub(crate) fn new(vapid: VapidKey, subject: String, allow_loopback: bool) -> Self {
        Self {
            http: http::client(http::Chosen::ByClient { allow_loopback }, false),
            vapid,
            subject,
            allow_loopback,
        }
    }

    /// `Authorization: vapid t=…, k=…` for a push service at `origin`.
    fn authorization(&self, origin: &str) -> Option<String> {
        let exp = (crate::clock::now().timestamp() as u64) + VAPID_TOKEN_LIFETIME.as_secs();
        let claims = VapidClaims {
            aud: origin,
            exp,
            sub: &self.subject,
        };
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        let token = jsonwebtoken::encode(&header, &claims, self.vapid.signing_key()).ok()?;
        Some(format!("vapid t={token}, k={}", self.vapid.public_key()))
    }

    fn request(&self, target: &Target, body: Vec<u8>) -> Option<reqwest::Request> {
        let decode = |v: &Option<String>| {
            URL_SAFE_NO_PAD
                .decode(v.as_deref()?.trim_end_matches('='))
                .ok()
        };
        let key = p256::PublicKey::from_sec1_bytes(&decode(&target.p256dh)?).ok()?;
        let auth: [u8; 16] = decode(&target.auth)?.try_into().ok()?;
        let url = url::Url::parse(&target.address).ok()?;
        let built = WebPushBuilder::new(target.address.parse().ok()?, key, Auth::from(auth))
            .with_valid_duration(TIME_TO_LIVE)
            .build(body)
            .ok()?;
        let mut request = reqwest::Request::try_from(built).ok()?;
        let authorization = self.authorization(&url.origin().ascii_serialization())?;
        let headers = request.headers_mut();
        headers.insert(reqwest::header::AUTHORIZATION, authorization.parse().ok()?);
        // A chat message is what RFC 8030 calls high urgency: wake the device.
        headers.insert("urgency", reqwest::header::HeaderValue::from_static("high"));
        Some(request)
    }
}

#[async_trait::async_trait]
impl Deliver for WebPush {
    async fn deliver(&self, target: &Target, payload: &Payload) -> Outcome {
        let Ok(url) = url::Url::parse(&target.address) else {
            return Outcome::Rejected;
        };
        if !http::literal_host_allowed(&url, self.allow_loopback) {
            return Outcome::Refused;
        }
        let body = serde_json::to_vec(payload).unwrap_or_default();
        let Some(request) = self.request(target, body) else {
            return Outcome::Rejected;
        };
        http::send(&self.http, request).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use p256::elliptic_curve::sec1::ToEncodedPoint;

    use super::{Deliver, Outcome, Target, VapidKey, WebPush};
    use crate::push::Provider;

    /// A listener that counts the connections it is offered, and closes each.
    async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let port = listener.local_addr().expect("bound").port();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
        (port, seen)
    }

    fn payload() -> crate::push::Payload {
        crate::push::Payload::message(uuid::Uuid::nil(), 1, 1, 1)
    }

    fn target(address: String) -> Target {
        let key = p256::SecretKey::random(&mut rand::rngs::OsRng);
        Target {
            subscription_id: uuid::Uuid::nil(),
            provider: Provider::WebPush,
            address,
            p256dh: Some(
                URL_SAFE_NO_PAD.encode(key.public_key().to_encoded_point(false).as_bytes()),
            ),
            auth: Some(URL_SAFE_NO_PAD.encode([9u8; 16])),
            topic: None,
        }
    }

    #[tokio::test]
    async fn loopback_is_refused_by_address_and_by_name_without_a_connection() {
        let (port, seen) = counting_listener().await;
        let sender = WebPush::new(VapidKey::random(), "mailto:ops@example.org".into(), false);
        for address in [
            format!("http://127.0.0.1:{port}/push"),
            format!("https://127.0.0.1:{port}/push"),
            format!("http://[::ffff:127.0.0.1]:{port}/push"),
            // A name is resolved by the guarded resolver, which keeps no loopback address.
            format!("http://localhost:{port}/push"),
        ] {
            assert_eq!(
                sender.deliver(&target(address.clone()), &payload()).await,
                Outcome::Refused,
                "{address}"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(
            seen.load(Ordering::SeqCst),
            0,
            "nothing reached the listener"
        );

        // With the tests' flag the same endpoint is contacted.
        let allowed = WebPush::new(VapidKey::random(), "mailto:ops@example.org".into(), true);
        let outcome = allowed
            .deliver(&target(format!("http://localhost:{port}/push")), &payload())
            .await;
        assert_eq!(
            outcome,
            Outcome::RetryLater { after: None },
            "a closed connection is retried"
        );
        assert!(seen.load(Ordering::SeqCst) >= 1);
    }
}
