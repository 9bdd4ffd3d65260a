//! Push devices as their owner sees them, in both doors.

use async_graphql::{Enum, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use domain::push::DeviceRequest;
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

/// Marks a registration as a Web Push subscription; the REST body's `kind`.
#[derive(Debug, Default, Clone, Copy, Deserialize, ToSchema)]
pub enum WebPushKind {
    #[default]
    #[serde(rename = "webpush")]
    WebPush,
}

/// Marks a registration as an FCM token.
#[derive(Debug, Default, Clone, Copy, Deserialize, ToSchema)]
pub enum FcmKind {
    #[default]
    #[serde(rename = "fcm")]
    Fcm,
}

/// Marks a registration as an APNs token.
#[derive(Debug, Default, Clone, Copy, Deserialize, ToSchema)]
pub enum ApnsKind {
    #[default]
    #[serde(rename = "apns")]
    Apns,
}

/// A browser's `PushSubscription.toJSON()`, unchanged, with `"kind": "webpush"` in
/// REST (a GraphQL `@oneOf` field says the kind instead).
#[derive(Debug, Deserialize, ToSchema, InputObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "WebPushSubscriptionInput")]
pub struct WebPushSubscription {
    #[graphql(skip)]
    pub kind: WebPushKind,
    /// The push service URL, `https://`.
    pub endpoint: String,
    /// Milliseconds since the epoch when the subscription ends, or null.
    #[serde(default)]
    pub expiration_time: Option<f64>,
    pub keys: WebPushKeys,
}

/// The browser's keys for payload encryption (RFC 8291).
#[derive(Debug, Deserialize, ToSchema, InputObject)]
#[graphql(name = "WebPushKeysInput")]
pub struct WebPushKeys {
    /// Uncompressed P-256 public key, base64url.
    #[graphql(name = "p256dh")]
    pub p256dh: String,
    /// 16-byte authentication secret, base64url.
    pub auth: String,
}

/// An Android app's FCM registration token.
#[derive(Debug, Deserialize, ToSchema, InputObject)]
#[graphql(name = "FcmRegistrationInput")]
pub struct FcmRegistration {
    #[graphql(skip)]
    pub kind: FcmKind,
    pub token: String,
}

/// An iOS app's APNs device token (hex) and bundle id.
#[derive(Debug, Deserialize, ToSchema, InputObject)]
#[graphql(name = "ApnsRegistrationInput")]
pub struct ApnsRegistration {
    #[graphql(skip)]
    pub kind: ApnsKind,
    pub token: String,
    pub topic: String,
}

impl From<WebPushSubscription> for DeviceRequest {
    fn from(web: WebPushSubscription) -> Self {
        Self::WebPush {
            endpoint: web.endpoint,
            expiration_time: web.expiration_time,
            p256dh: web.keys.p256dh,
            auth: web.keys.auth,
        }
    }
}

impl From<FcmRegistration> for DeviceRequest {
    fn from(fcm: FcmRegistration) -> Self {
        Self::Fcm { token: fcm.token }
    }
}

impl From<ApnsRegistration> for DeviceRequest {
    fn from(apns: ApnsRegistration) -> Self {
        Self::Apns {
            token: apns.token,
            topic: apns.topic,
        }
    }
}
