//! Opaque, URL-safe, versioned paging cursors, HMAC-signed with a server key.
//!
//! A cursor carries the sort values of the row it points at (not just its id, so that
//! deleting or editing that row does not break the next page) and is bound to a
//! *scope*: the list, its order and a canonical form of its filters. The scope is not
//! stored in the token; it is part of what is signed, so a cursor replayed against
//! another order or filter set fails verification like a tampered one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Serialize, de::DeserializeOwned};
use sha2::Sha256;

use crate::DomainError;

/// The scope of a list query: the list and every part that selects or orders it, as
/// a JSON array. Values are quoted, so no value can pass for a separator and no two
/// different queries share a scope (`None` is `null`, unlike an empty string).
pub(crate) fn scope(parts: &[Option<&str>]) -> String {
    serde_json::to_string(parts).unwrap_or_default()
}

const VERSION: &str = "v1";
/// Bytes of the HMAC kept in the token: 128 bits is ample against forgery.
const TAG_LEN: usize = 16;

/// The secret that signs cursors. Cursors outlive a request, so every node of a
/// deployment must share it.
#[derive(Clone)]
pub struct CursorKey(Vec<u8>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey([redacted])")
    }
}

impl CursorKey {
    /// A key from configured bytes.
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    /// A random key: cursors then stop working when the process restarts.
    pub fn random() -> Self {
        Self(Self::random_bytes().to_vec())
    }

    /// 32 random bytes from the OS generator, for any key generated at start-up.
    pub fn random_bytes() -> [u8; 32] {
        rand::random()
    }

    /// Seals `position` into a token valid only for `scope`.
    pub fn seal<T: Serialize>(&self, scope: &str, position: &T) -> String {
        let payload = serde_json::to_vec(position).expect("cursor positions serialise");
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let tag = self.mac(scope, &payload).finalize().into_bytes();
        let tag = URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN]);
        format!("{VERSION}.{payload}.{tag}")
    }

    /// Opens a token sealed for `scope`; anything else is `InvalidCursor` for `parameter`.
    pub fn open<T: DeserializeOwned>(
        &self,
        scope: &str,
        parameter: &'static str,
        token: &str,
    ) -> Result<T, DomainError> {
        let invalid = || DomainError::InvalidCursor { parameter };
        let mut parts = token.split('.');
        let (Some(VERSION), Some(payload), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        if tag.len() != TAG_LEN {
            return Err(invalid());
        }
        self.mac(scope, payload)
            .verify_truncated_left(&tag)
            .map_err(|_| invalid())?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }

    fn mac(&self, scope: &str, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        for part in [VERSION, scope, payload] {
            // Length-prefixed, so that no two (scope, payload) pairs sign the same bytes.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_opens_only_in_its_own_scope() {
        let key = CursorKey::new(b"secret");
        let token = key.seal("therapists|name|", &("anna", 7));
        let opened: (String, i32) = key
            .open("therapists|name|", "after", &token)
            .expect("opens");
        assert_eq!(opened, ("anna".to_owned(), 7));
        assert!(
            key.open::<(String, i32)>("therapists|newest|", "after", &token)
                .is_err()
        );
        assert!(
            CursorKey::new(b"other")
                .open::<(String, i32)>("therapists|name|", "after", &token)
                .is_err()
        );
    }

    #[test]
    fn a_tampered_cursor_does_not_open() {
        let key = CursorKey::new(b"secret");
        let token = key.seal("s", &("anna", 7));
        let forged = token.replacen("v1.", "v1.e", 1);
        assert!(key.open::<(String, i32)>("s", "after", &forged).is_err());
        assert!(key.open::<(String, i32)>("s", "after", "garbage").is_err());
        assert!(key.open::<(String, i32)>("s", "after", "").is_err());
    }
}
