//! Push devices as their owner sees them, in both doors.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Who delivers pushes to a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Enum)]
#[serde(rename_all = "lowercase")]
#[graphql(remote = "domain::push::Provider")]
pub enum PushProvider {
    /// Web Push (RFC 8030): browsers, and UnifiedPush on Android.
    #[serde(rename = "webpush")]
    WebPush,
    /// Firebase Cloud Messaging.
    Fcm,
    /// Apple Push Notification service.
    Apns,
}

/// A registered device. Its endpoint or token is never shown again.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
pub struct PushSubscription {
    pub id: Uuid,
    pub kind: PushProvider,
    /// Web Push: the push service's origin, to tell devices apart.
    pub endpoint_origin: Option<String>,
    /// APNs: the app's bundle id.
    pub topic: Option<String>,
    /// When the browser said the subscription ends.
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<domain::push::Subscription> for PushSubscription {
    fn from(s: domain::push::Subscription) -> Self {
        Self {
            id: s.id,
            kind: s.provider.into(),
            endpoint_origin: s.endpoint_origin,
            topic: s.topic,
            expires_at: s.expires_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A member's notification setting on one conversation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, SimpleObject)]
pub struct NotificationSettings {
    /// No push for this conversation while set.
    pub muted: bool,
}
