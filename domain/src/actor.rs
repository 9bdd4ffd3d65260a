//! Who is acting: an authenticated account, its role, and the request it acts in.
//! Every service takes an `Actor` where a rule depends on who asks.

use uuid::Uuid;

use crate::DomainError;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Client,
    Therapist,
    Support,
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Self; 4] = [Self::Client, Self::Therapist, Self::Support, Self::Admin];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Therapist => "therapist",
            Self::Support => "support",
            Self::Admin => "admin",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// The role a stored row holds. One that does not parse is corrupt data: an
    /// error, never quietly the least privileged role or any other.
    pub(crate) fn stored(value: &str) -> Result<Self, DomainError> {
        Self::parse(value).ok_or_else(|| DomainError::corrupt("accounts.role", value))
    }

    /// Support staff and admins: the people behind the admin UI.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Support | Self::Admin)
    }
}

/// How a caller reached the server, recorded in the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Door {
    #[default]
    Rest,
    Graphql,
    /// The REST event stream.
    Sse,
    /// GraphQL over the WebSocket.
    WebSocket,
}

impl Door {
    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rest => "rest",
            Self::Graphql => "graphql",
            Self::Sse => "sse",
            Self::WebSocket => "websocket",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Actor {
    pub account_id: Uuid,
    pub role: Role,
    /// The request this call serves, recorded in audit and access-log entries.
    pub request_id: Option<String>,
    /// The door it came through, recorded in access-log entries.
    pub door: Door,
}

impl Actor {
    /// Refuses unless the actor is support staff or an admin.
    pub(crate) fn require_staff(&self, action: &'static str) -> Result<(), DomainError> {
        if self.role.is_staff() {
            Ok(())
        } else {
            Err(DomainError::Forbidden { action })
        }
    }

    /// Refuses unless the actor is an admin.
    pub(crate) fn require_admin(&self, action: &'static str) -> Result<(), DomainError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(DomainError::Forbidden { action })
        }
    }
}
