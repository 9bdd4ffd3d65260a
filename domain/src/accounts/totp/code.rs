//! RFC 6238 time-based one-time codes: HMAC-SHA1 over the count of 30-second steps
//! since the Unix epoch, dynamically truncated (RFC 4226) to six digits, the
//! parameters every authenticator app assumes when a URI names none.

use data_encoding::BASE32_NOPAD;
use totp_hmac::{Hmac, KeyInit, Mac};
use totp_sha1::Sha1;

/// Seconds one code lasts.
pub(super) const STEP_SECS: i64 = 30;
/// Digits in a code.
pub(super) const DIGITS: u32 = 6;
/// Steps of clock drift accepted either side of now.
const DRIFT_STEPS: i64 = 1;
/// Bytes of a shared secret: 160 bits, as RFC 4226 recommends for HMAC-SHA1.
pub(super) const SECRET_BYTES: usize = 20;

/// A new random shared secret, in the base32 apps take.
pub(super) fn new_secret() -> String {
    BASE32_NOPAD.encode(&rand::random::<[u8; SECRET_BYTES]>())
}

/// The time step `unix_secs` falls in.
pub(super) fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code of `secret` (raw bytes) for time step `step`, as its digits.
pub(super) fn code_at(secret: &[u8], step: i64) -> u32 {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let truncated = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    truncated % 10u32.pow(DIGITS)
}

/// The step within the drift around `now_step` whose code `code` is, if any. `code`
/// must be exactly six ASCII digits (spaces, as apps group them, are ignored).
pub(super) fn matching_step(secret_base32: &str, code: &str, now_step: i64) -> Option<i64> {
    let digits: String = code.chars().filter(|c| *c != ' ').collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = digits.parse().ok()?;
    let secret = BASE32_NOPAD.decode(secret_base32.as_bytes()).ok()?;
    // Every candidate is computed, so the time taken does not say which matched.
    let mut found = None;
    for step in now_step - DRIFT_STEPS..=now_step + DRIFT_STEPS {
        if code_at(&secret, step) == wanted && found.is_none() {
            found = Some(step);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows: the published eight-digit values, whose last
    /// six digits are the six-digit codes.
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight_digits) in [
            (59, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(
                code_at(secret, step_at(time)),
                eight_digits % 1_000_000,
                "{time}"
            );
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let secret = BASE32_NOPAD.encode(b"12345678901234567890");
        let raw = b"12345678901234567890";
        let now = 1_000;
        for offset in -1..=1 {
            let code = format!("{:06}", code_at(raw, now + offset));
            assert_eq!(matching_step(&secret, &code, now), Some(now + offset));
        }
        for offset in [-2, 2] {
            let code = format!("{:06}", code_at(raw, now + offset));
            assert_ne!(matching_step(&secret, &code, now), Some(now + offset));
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "12345a", now), None);
    }
}
