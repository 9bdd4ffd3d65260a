//! What a client may register as a device, checked before anything is stored: a Web
//! Push subscription exactly as the browser's `PushSubscription.toJSON()` gives it,
//! or a native app's FCM or APNs token. Every refusal names its field.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::address::{self, Reach};
use crate::DomainError;
use crate::limits::{APNS_TOKEN, APNS_TOPIC, FCM_TOKEN, Length, PUSH_ENDPOINT};

/// Who delivers a push to a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// RFC 8030 Web Push: browsers, and UnifiedPush on Android.
    WebPush,
    /// Firebase Cloud Messaging (Android apps).
    Fcm,
    /// Apple Push Notification service (iOS apps).
    Apns,
}

impl Provider {
    pub const ALL: [Self; 3] = [Self::WebPush, Self::Fcm, Self::Apns];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebPush => "webpush",
            Self::Fcm => "fcm",
            Self::Apns => "apns",
        }
    }

    pub(crate) fn stored(value: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == value)
            .ok_or_else(|| DomainError::corrupt("push_subscriptions.kind", value))
    }
}

/// A registration as the client sends it.
#[derive(Debug, Clone)]
pub enum DeviceRequest {
    WebPush {
        endpoint: String,
        /// Milliseconds since the epoch, as the browser gives it, or none.
        expiration_time: Option<f64>,
        /// The browser's P-256 public key, base64url.
        p256dh: String,
        /// The browser's 16-byte authentication secret, base64url.
        auth: String,
    },
    Fcm {
        token: String,
    },
    Apns {
        token: String,
        /// The app's bundle id.
        topic: String,
    },
}

/// A checked registration, ready to store.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub provider: Provider,
    pub address: String,
    pub p256dh: Option<String>,
    pub auth: Option<String>,
    pub topic: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Device {
    /// Checks `request`; `allow_loopback` admits `http://` endpoints on loopback (tests).
    pub(crate) fn check(request: DeviceRequest, allow_loopback: bool) -> Result<Self, DomainError> {
        match request {
            DeviceRequest::WebPush {
                endpoint,
                expiration_time,
                p256dh,
                auth,
            } => {
                check_endpoint(&endpoint, allow_loopback)?;
                check_p256dh(&p256dh)?;
                check_auth(&auth)?;
                Ok(Self {
                    provider: Provider::WebPush,
                    address: endpoint,
                    p256dh: Some(p256dh),
                    auth: Some(auth),
                    topic: None,
                    expires_at: expiration(expiration_time)?,
                })
            }
            DeviceRequest::Fcm { token } => {
                let valid = token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'.'));
                if !FCM_TOKEN.allows(token.len()) || !valid {
                    return Err(shape("token", FCM_TOKEN, "letters, digits and `_-:.`"));
                }
                Ok(Self::native(Provider::Fcm, token, None))
            }
            DeviceRequest::Apns { token, topic } => {
                let valid = token.len() % 2 == 0 && token.bytes().all(|b| b.is_ascii_hexdigit());
                if !APNS_TOKEN.allows(token.len()) || !valid {
                    return Err(shape("token", APNS_TOKEN, "hex digits, an even number"));
                }
                let valid_topic = topic.contains('.')
                    && topic
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
                if !APNS_TOPIC.allows(topic.len()) || !valid_topic {
                    return Err(shape(
                        "topic",
                        APNS_TOPIC,
                        "a bundle id such as `org.example.app`",
                    ));
                }
                Ok(Self::native(
                    Provider::Apns,
                    token.to_ascii_lowercase(),
                    Some(topic),
                ))
            }
        }
    }

    fn native(provider: Provider, token: String, topic: Option<String>) -> Self {
        Self {
            provider,
            address: token,
            p256dh: None,
            auth: None,
            topic,
            expires_at: None,
        }
    }

    /// The key that makes a device one row: its provider and address, hashed so that
    /// every backend can index it.
    pub(crate) fn address_hash(&self) -> String {
        let digest = Sha256::new()
            .chain_update(self.provider.as_str())
            .chain_update([0])
            .chain_update(&self.address)
            .finalize();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn shape(field: &str, length: Length, alphabet: &str) -> DomainError {
    DomainError::Validation(format!(
        "{field}: must be {} to {} characters of {alphabet}",
        length.min, length.max
    ))
}

fn check_endpoint(endpoint: &str, allow_loopback: bool) -> Result<(), DomainError> {
    let refuse = |why: &str| DomainError::Validation(format!("endpoint: {why}"));
    if !PUSH_ENDPOINT.allows(endpoint.chars().count()) {
        return Err(refuse(&PUSH_ENDPOINT.requirement()));
    }
    let url = url::Url::parse(endpoint).map_err(|e| refuse(&format!("not a URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("must not carry credentials"));
    }
    let host = url.host().ok_or_else(|| refuse("must name a host"))?;
    let reach = address::reach_of_host(&host);
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && reach == Some(Reach::Loopback) => {}
        _ => return Err(refuse("must be an https:// URL")),
    }
    // A literal address is judged now; a name is judged when it is resolved, at each send.
    match reach {
        Some(Reach::Loopback) if allow_loopback => Ok(()),
        Some(Reach::Public) | None => Ok(()),
        Some(_) => Err(refuse(
            "must not point at a loopback, private, link-local or unique-local address",
        )),
    }
}

/// Base64url as browsers write it (no padding), or with padding.
fn base64url(value: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .ok()
}

fn check_p256dh(value: &str) -> Result<(), DomainError> {
    let point = base64url(value).filter(|bytes| bytes.len() == 65 && bytes[0] == 0x04);
    match point.map(|bytes| p256::PublicKey::from_sec1_bytes(&bytes)) {
        Some(Ok(_)) => Ok(()),
        _ => Err(DomainError::Validation(
            "keys.p256dh: must be an uncompressed P-256 public key, base64url (65 bytes)".into(),
        )),
    }
}

fn check_auth(value: &str) -> Result<(), DomainError> {
    match base64url(value) {
        Some(bytes) if bytes.len() == 16 => Ok(()),
        _ => Err(DomainError::Validation(
            "keys.auth: must be a 16-byte secret, base64url".into(),
        )),
    }
}

fn expiration(milliseconds: Option<f64>) -> Result<Option<DateTime<Utc>>, DomainError> {
    let Some(ms) = milliseconds else {
        return Ok(None);
    };
    // A DOMHighResTimeStamp: fractions of a millisecond are allowed, and dropped.
    let at = ms
        .is_finite()
        .then(|| DateTime::from_timestamp_millis(ms.floor() as i64))
        .flatten()
        .ok_or_else(|| {
            DomainError::Validation(
                "expirationTime: must be null or milliseconds since the epoch".into(),
            )
        })?;
    if at <= crate::clock::now() {
        return Err(DomainError::Validation(
            "expirationTime: the subscription has already expired".into(),
        ));
    }
    Ok(Some(at))
}

#[cfg(test)]
mod tests {
    use super::{Device, DeviceRequest, Provider};

    fn field_of(request: DeviceRequest) -> String {
        let err = Device::check(request, false).expect_err("refused");
        err.to_string()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn fcm_tokens_of_the_documented_alphabet_pass() {
        let token = format!("dXk3{}:APA91b{}", "a".repeat(20), "Z_-9".repeat(30));
        let device = Device::check(
            DeviceRequest::Fcm {
                token: token.clone(),
            },
            false,
        )
        .expect("a token of the right shape");
        assert_eq!((device.provider, device.address), (Provider::Fcm, token));
        for bad in [
            "short",
            &"a".repeat(4_097),
            &format!("{} x", "a".repeat(40)),
        ] {
            let request = DeviceRequest::Fcm {
                token: bad.to_owned(),
            };
            assert_eq!(field_of(request), "token", "{bad}");
        }
    }

    #[test]
    fn apns_tokens_are_even_hex_and_kept_lowercase() {
        let device = Device::check(
            DeviceRequest::Apns {
                token: "AB".repeat(32),
                topic: "org.example.portal".into(),
            },
            false,
        )
        .expect("a device token");
        assert_eq!(device.address, "ab".repeat(32));
        for token in [
            "ab".repeat(31),
            format!("{}a", "ab".repeat(40)),
            "zz".repeat(32),
        ] {
            let request = DeviceRequest::Apns {
                token,
                topic: "org.example.portal".into(),
            };
            assert_eq!(field_of(request), "token");
        }
        for topic in ["portal", "org.example/portal", ""] {
            let request = DeviceRequest::Apns {
                token: "ab".repeat(32),
                topic: topic.into(),
            };
            assert_eq!(field_of(request), "topic", "{topic}");
        }
    }

    #[test]
    fn the_same_device_hashes_the_same_and_providers_never_collide() {
        let fcm = Device::check(
            DeviceRequest::Fcm {
                token: "a".repeat(64),
            },
            false,
        )
        .expect("fcm");
        let apns = Device::check(
            DeviceRequest::Apns {
                token: "a".repeat(64),
                topic: "org.example.portal".into(),
            },
            false,
        )
        .expect("apns");
        assert_eq!(fcm.address, apns.address);
        assert_ne!(fcm.address_hash(), apns.address_hash());
        assert_eq!(fcm.address_hash(), fcm.clone().address_hash());
        assert_eq!(fcm.address_hash().len(), 64);
    }
}
