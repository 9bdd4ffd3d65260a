//! The server's VAPID key (RFC 8292): it signs every Web Push request, and browsers
//! bind a subscription to its public half (`applicationServerKey`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;

use crate::DomainError;

/// A P-256 key pair. Its `Debug` never shows the private half.
#[derive(Clone)]
pub struct VapidKey {
    signing: jsonwebtoken::EncodingKey,
    public: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl VapidKey {
    /// The key whose private scalar is `private` (32 bytes, base64url, as
    /// `web-push generate-vapid-keys` and most tools print it).
    pub fn from_base64url(private: &str) -> Result<Self, DomainError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(private.trim().trim_end_matches('='))
            .map_err(|_| {
                DomainError::Validation("the VAPID private key is not base64url".into())
            })?;
        let secret = p256::SecretKey::from_slice(&bytes).map_err(|_| {
            DomainError::Validation(
                "the VAPID private key is not a P-256 scalar of 32 bytes".into(),
            )
        })?;
        Ok(Self::of(secret))
    }

    /// A fresh key: subscriptions made with it stop working when the process ends.
    pub fn random() -> Self {
        Self::of(p256::SecretKey::random(&mut rand::rngs::OsRng))
    }

    fn of(secret: p256::SecretKey) -> Self {
        let point = secret.public_key().to_encoded_point(false);
        // jsonwebtoken reads EC keys as PKCS#8; encoding a valid key cannot fail.
        let der = secret
            .to_pkcs8_der()
            .expect("a P-256 key encodes as PKCS#8");
        Self {
            signing: jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()),
            public: URL_SAFE_NO_PAD.encode(point.as_bytes()),
        }
    }

    /// The public key, uncompressed and base64url: what `pushManager.subscribe` takes.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The private half, as the ES256 signer of VAPID tokens takes it.
    pub(crate) fn signing_key(&self) -> &jsonwebtoken::EncodingKey {
        &self.signing
    }
}
