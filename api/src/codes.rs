//! Every `code` a client can receive, in one table: REST puts it in the problem body,
//! GraphQL in `extensions.code`. The domain's refusals keep the codes
//! `DomainError::code` gives them (listed here too); the doors' own refusals use the
//! constants below. The README's list of codes is this table (a test compares them).

pub const NOT_FOUND: &str = "not_found";
pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
pub const BAD_REQUEST: &str = "bad_request";
pub const MALFORMED_BODY: &str = "malformed_body";
pub const BODY_TOO_LARGE: &str = "body_too_large";
pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
pub const INVALID_PARAMETER: &str = "invalid_parameter";
pub const INVALID_PATH: &str = "invalid_path";
pub const RATE_LIMITED: &str = "rate_limited";
pub const UNAVAILABLE: &str = "unavailable";
pub const INTERNAL: &str = "internal";
pub const INVALID_QUERY: &str = "invalid_query";
/// Apollo's spelling, which its persisted-query clients match on.
pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
pub const QUERY_TOO_DEEP: &str = "query_too_deep";
pub const QUERY_TOO_COMPLEX: &str = "query_too_complex";
pub const TOO_MANY_ALIASES: &str = "too_many_aliases";
pub const BATCH_TOO_LARGE: &str = "batch_too_large";
pub const RESPONSE_TOO_LARGE: &str = "response_too_large";
pub const UPGRADE_REQUIRED: &str = "upgrade_required";
pub const MALFORMED_UPGRADE: &str = "malformed_upgrade";
pub const UNSUPPORTED_SUBPROTOCOL: &str = "unsupported_subprotocol";
pub const ORIGIN_NOT_ALLOWED: &str = "origin_not_allowed";

/// Every code and what it tells a client, in the order the README lists them.
pub const TABLE: [(&str, &str); 33] = [
    (
        NOT_FOUND,
        "no such resource, or one the caller may not know of (404)",
    ),
    (
        METHOD_NOT_ALLOWED,
        "the path exists with other methods, listed in `Allow` (405)",
    ),
    (BAD_REQUEST, "a request the server could not read (400)"),
    (
        MALFORMED_BODY,
        "the JSON body does not parse or has the wrong shape (400)",
    ),
    (BODY_TOO_LARGE, "the body is over 64 KiB (413)"),
    (
        UNSUPPORTED_MEDIA_TYPE,
        "the body is not `application/json` (415)",
    ),
    (
        INVALID_PARAMETER,
        "a query parameter or argument is malformed or out of range; `parameter` names it (400)",
    ),
    (
        INVALID_PATH,
        "a path segment is malformed, such as an id that is not a UUID (400)",
    ),
    (
        "invalid_cursor",
        "a paging cursor was tampered with or belongs to another query: start from the first page (400)",
    ),
    (
        "invalid_sync_token",
        "a sync token was tampered with, belongs to another account or is older than the feed keeps: reload, then sync without `since` (400)",
    ),
    (
        "validation_failed",
        "a body field breaks a rule; the detail names it (422)",
    ),
    (
        "idempotency_key_reused",
        "a retried send reused its `client_msg_id` with another body (422)",
    ),
    (
        "conflict",
        "the request conflicts with what is stored, such as a taken email (409)",
    ),
    (
        "legal_hold",
        "the account is under a legal hold and cannot be erased until an admin releases it (409)",
    ),
    (
        "unauthenticated",
        "no valid credentials: a missing, expired or revoked token, or a failed sign-in (401)",
    ),
    (
        "totp_required",
        "the password was right; this account also needs `totp` or `recovery_code` to sign in (401)",
    ),
    (
        "invalid_totp",
        "the one-time or recovery code is wrong, expired or already used (401)",
    ),
    ("forbidden", "the caller is known but may not do this (403)"),
    (
        "totp_enrolment_required",
        "a staff account must turn on two-factor sign-in before anything else (403)",
    ),
    (
        RATE_LIMITED,
        "too many requests, sign-in attempts or GraphQL points: retry after `Retry-After` seconds (429)",
    ),
    (
        UNAVAILABLE,
        "the database did not answer in time: retry after `Retry-After` seconds (503)",
    ),
    (
        INTERNAL,
        "the server failed; the request id finds it in the logs (500)",
    ),
    (
        INVALID_QUERY,
        "the GraphQL document does not parse or does not validate, or a persisted query's `sha256Hash` does not match its text",
    ),
    (
        PERSISTED_QUERY_NOT_FOUND,
        "this node does not know the persisted query's `sha256Hash`: send it again with its text (Apollo's automatic persisted queries)",
    ),
    (QUERY_TOO_DEEP, "the GraphQL selection nests deeper than 12"),
    (
        QUERY_TOO_COMPLEX,
        "the GraphQL request costs more than its limit",
    ),
    (
        TOO_MANY_ALIASES,
        "the GraphQL document uses more than 30 aliases",
    ),
    (
        BATCH_TOO_LARGE,
        "the GraphQL batch holds more than 10 operations",
    ),
    (
        RESPONSE_TOO_LARGE,
        "the GraphQL response would be over 2 MiB: ask for smaller pages",
    ),
    (
        UPGRADE_REQUIRED,
        "`/graphql/ws` was asked for without a WebSocket upgrade (426)",
    ),
    (
        MALFORMED_UPGRADE,
        "a WebSocket handshake that is not version 13 (400)",
    ),
    (
        UNSUPPORTED_SUBPROTOCOL,
        "the WebSocket offers no graphql-transport-ws or graphql-ws (400)",
    ),
    (
        ORIGIN_NOT_ALLOWED,
        "a browser WebSocket from an origin that is not allowed (403)",
    ),
];

#[cfg(test)]
mod tests {
    use domain::DomainError;

    use super::TABLE;

    #[test]
    fn every_domain_refusal_has_its_code_in_the_table() {
        let refusals = [
            DomainError::NotFound { entity: "x" },
            DomainError::InvalidParameter {
                parameter: "x",
                message: String::new(),
            },
            DomainError::InvalidCursor { parameter: "x" },
            DomainError::InvalidSyncToken,
            DomainError::Unauthenticated("x"),
            DomainError::TotpRequired,
            DomainError::InvalidTotp,
            DomainError::TotpEnrolmentRequired,
            DomainError::Forbidden { action: "x" },
            DomainError::RateLimited {
                retry_after_secs: 1,
            },
            DomainError::Validation(String::new()),
            DomainError::IdempotencyKeyReused,
            DomainError::Conflict(String::new()),
            DomainError::LegalHold,
            DomainError::Unavailable,
            DomainError::Storage(sea_orm::DbErr::Custom(String::new())),
        ];
        for refusal in refusals {
            assert!(
                TABLE.iter().any(|(code, _)| *code == refusal.code()),
                "{} is not in the table",
                refusal.code()
            );
        }
        let mut codes: Vec<&str> = TABLE.iter().map(|(code, _)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.len(), "each code once");
    }
}
