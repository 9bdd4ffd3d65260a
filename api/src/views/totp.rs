//! What a client sees of two-factor sign-in, in both doors.

use async_graphql::SimpleObject;
use serde::Serialize;
use utoipa::ToSchema;

/// A started enrolment: give `uri` to the authenticator app (as a QR code), or let
/// the person type `secret`; then confirm with the app's first code.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct TotpEnrolment {
    /// The shared secret, base32.
    pub secret: String,
    /// `otpauth://totp/...`: SHA-1, six digits, 30-second steps.
    pub uri: String,
}

impl From<domain::accounts::TotpEnrolment> for TotpEnrolment {
    fn from(enrolment: domain::accounts::TotpEnrolment) -> Self {
        Self {
            secret: enrolment.secret,
            uri: enrolment.uri,
        }
    }
}

/// Two-factor sign-in is on. The recovery codes are shown this once: each signs in
/// once in place of a code, for when the app is lost.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}
