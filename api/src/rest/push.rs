//! REST door to push: registering the caller's devices, the VAPID key browsers
//! subscribe with, and muting a conversation. The rules live in `domain::push`.

use actix_web::{HttpResponse, delete, get, post, put, web};
use domain::push::DeviceRequest;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::views;

/// Body of `POST /v1/push/subscriptions`: a browser's `PushSubscription.toJSON()`
/// with `"kind": "webpush"`, or a native app's token. Each shape carries its `kind`
/// as a one-value enum, so the document is a `oneOf` of three named schemas that
/// generators turn into three types.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PushSubscriptionRequest {
    WebPush(views::WebPushSubscription),
    Fcm(views::FcmRegistration),
    Apns(views::ApnsRegistration),
}

impl From<PushSubscriptionRequest> for DeviceRequest {
    fn from(request: PushSubscriptionRequest) -> Self {
        match request {
            PushSubscriptionRequest::WebPush(device) => device.into(),
            PushSubscriptionRequest::Fcm(device) => device.into(),
            PushSubscriptionRequest::Apns(device) => device.into(),
        }
    }
}

/// The server's VAPID public key.
#[derive(Debug, Serialize, ToSchema)]
pub struct VapidPublicKey {
    /// Uncompressed P-256 public key, base64url: `applicationServerKey` of
    /// `pushManager.subscribe`.
    pub public_key: String,
}

/// Register a device for push
///
/// Register one of the caller's devices. 201 for a device new to the caller; the same
/// endpoint or token again is 200 and updates it. A device registered by another
/// account moves to the caller. Refused with 422 naming the field: a bad endpoint,
/// keys or token, a provider this server is not configured for, or too many devices.
#[utoipa::path(
    tag = "push",
    security(("bearer" = [])),
    request_body = PushSubscriptionRequest,
    responses(
        (status = 201, description = "Registered", body = views::PushSubscription),
        (status = 200, description = "Already registered: updated", body = views::PushSubscription),
        (status = 422, description = "A field breaks a rule (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/push/subscriptions")]
pub async fn register_subscription(
    Authenticated(actor): Authenticated,
    body: web::Json<PushSubscriptionRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let registered = state
        .push
        .register(&actor, body.into_inner().into())
        .await?;
    let mut response = if registered.created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(views::PushSubscription::from(registered.subscription)))
}

/// List the caller's devices
///
/// The caller's registered devices, oldest first.
#[utoipa::path(
    tag = "push",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's devices", body = Vec<views::PushSubscription>)),
)]
#[get("/push/subscriptions")]
pub async fn list_subscriptions(
    Authenticated(actor): Authenticated,
    state: web::Data<AppState>,
) -> Result<web::Json<Vec<views::PushSubscription>>, ApiError> {
    let subscriptions = state.push.subscriptions(&actor).await?;
    Ok(web::Json(
        subscriptions.into_iter().map(Into::into).collect(),
    ))
}

/// Remove a device
///
/// Remove one of the caller's devices: it gets no more pushes.
#[utoipa::path(
    tag = "push",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such subscription of the caller's", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/push/subscriptions/{id}")]
pub async fn delete_subscription(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    state.push.unregister(&actor, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Get the VAPID public key
///
/// The key that signs this server's Web Push requests (RFC 8292), for the browser's
/// `pushManager.subscribe({ applicationServerKey })`.
#[utoipa::path(
    tag = "push",
    security(("bearer" = [])),
    responses((status = 200, description = "The public key", body = VapidPublicKey)),
)]
#[get("/push/vapid-public-key")]
pub async fn vapid_public_key(
    _caller: Authenticated,
    state: web::Data<AppState>,
) -> web::Json<VapidPublicKey> {
    web::Json(VapidPublicKey {
        public_key: state.push.vapid_public_key().to_owned(),
    })
}

/// Get a conversation's notification setting
///
/// Whether the caller muted the conversation's pushes.
#[utoipa::path(
    tag = "push",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The setting", body = views::NotificationSettings),
        (status = 403, description = "Support staff are not members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation, or not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/conversations/{id}/notifications")]
pub async fn get_notifications(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::NotificationSettings>, ApiError> {
    let muted = state.chat.muted(&actor, *id).await?;
    Ok(web::Json(views::NotificationSettings { muted }))
}

/// Mute or unmute a conversation
///
/// Mute or unmute the conversation's pushes for the caller. Real-time streams still
/// carry its messages.
#[utoipa::path(
    tag = "push",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Conversation id")),
    request_body = views::NotificationSettings,
    responses(
        (status = 200, description = "The setting now", body = views::NotificationSettings),
        (status = 403, description = "Support staff are not members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such conversation, or not a member", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/conversations/{id}/notifications")]
pub async fn set_notifications(
    Authenticated(actor): Authenticated,
    id: web::Path<Uuid>,
    body: web::Json<views::NotificationSettings>,
    state: web::Data<AppState>,
) -> Result<web::Json<views::NotificationSettings>, ApiError> {
    let muted = state.chat.set_muted(&actor, *id, body.muted).await?;
    Ok(web::Json(views::NotificationSettings { muted }))
}
