//! Every size a client must respect, in one place. The rules that enforce them read
//! these constants, the doors document them, and a contract test compares the
//! OpenAPI document and the GraphQL schema with them. Page sizes are declared by the
//! service that owns each list (`DirectoryService::PAGE`, `ChatService::HISTORY_PAGE`, …).

/// How many characters a text may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Length {
    pub min: usize,
    pub max: usize,
}

impl Length {
    /// Whether `chars` characters fit.
    pub fn allows(self, chars: usize) -> bool {
        (self.min..=self.max).contains(&chars)
    }

    /// What a value of the wrong length is told, after its field name.
    pub fn requirement(self) -> String {
        if self.min == 0 {
            format!("must be at most {} characters", self.max)
        } else {
            format!("must be {} to {} characters", self.min, self.max)
        }
    }
}

/// An account's email address (the longest a mail system delivers, RFC 5321).
pub const EMAIL_MAX_CHARS: usize = 254;

/// A password.
pub const PASSWORD: Length = Length { min: 10, max: 128 };

/// A person's display name, on an account and on a therapist's profile.
pub const DISPLAY_NAME: Length = Length { min: 1, max: 200 };

/// A therapist's biography.
pub const BIO: Length = Length { min: 0, max: 5_000 };

/// A city, on a profile and in a directory filter.
pub const CITY: Length = Length { min: 1, max: 100 };

/// A specialty or language code.
pub const TAG: Length = Length { min: 1, max: 64 };

/// Specialties, or languages, on one profile.
pub const MAX_TAGS: usize = 20;

/// The directory's name-prefix search `q`.
pub const SEARCH: Length = Length { min: 1, max: 200 };

/// A message body.
pub const MESSAGE_BODY: Length = Length {
    min: 1,
    max: 10_000,
};

/// The client's idempotency key of a message (printable ASCII).
pub const CLIENT_MSG_ID: Length = Length { min: 1, max: 64 };

/// The reason an admin gives for an erasure or a legal hold.
pub const REASON: Length = Length { min: 1, max: 500 };

/// Members of one conversation (a care team and a client).
pub const MAX_MEMBERS: usize = 20;

/// Account ids in one presence query.
pub const MAX_PRESENCE_IDS: usize = 100;

/// Push subscriptions (devices) of one account.
pub const MAX_PUSH_SUBSCRIPTIONS: usize = 20;

/// A Web Push endpoint URL.
pub const PUSH_ENDPOINT: Length = Length { min: 1, max: 2_048 };

/// An FCM registration token.
pub const FCM_TOKEN: Length = Length {
    min: 32,
    max: 4_096,
};

/// An APNs device token, in hex.
pub const APNS_TOKEN: Length = Length { min: 64, max: 200 };

/// An APNs topic: the app's bundle id.
pub const APNS_TOPIC: Length = Length { min: 3, max: 255 };
