//! GraphQL door to push: the same registration, listing, removal and muting as
//! REST, over the same rules in `domain::push`.

use async_graphql::{Context, Object, OneofObject, Result, SimpleObject};
use domain::push::DeviceRequest;
use uuid::Uuid;

use super::{actor, graphql_error};
use crate::state::AppState;
use crate::views;

/// A device to register: exactly one of its fields.
#[derive(OneofObject)]
pub enum PushSubscriptionInput {
    /// A browser's `PushSubscription.toJSON()`.
    WebPush(views::WebPushSubscription),
    Fcm(views::FcmRegistration),
    Apns(views::ApnsRegistration),
}

impl From<PushSubscriptionInput> for DeviceRequest {
    fn from(input: PushSubscriptionInput) -> Self {
        match input {
            PushSubscriptionInput::WebPush(device) => device.into(),
            PushSubscriptionInput::Fcm(device) => device.into(),
            PushSubscriptionInput::Apns(device) => device.into(),
        }
    }
}

/// What `registerPushSubscription` answers.
#[derive(SimpleObject)]
pub struct RegisterPushSubscriptionResult {
    pub subscription: views::PushSubscription,
    /// False when the caller had registered this device before (it was updated).
    pub created: bool,
}

#[derive(Default)]
pub struct PushQuery;

#[Object]
impl PushQuery {
    /// The caller's registered devices, oldest first.
    async fn push_subscriptions(&self, ctx: &Context<'_>) -> Result<Vec<views::PushSubscription>> {
        let state = ctx.data::<AppState>()?;
        let subscriptions = state
            .push
            .subscriptions(actor(ctx)?)
            .await
            .map_err(graphql_error)?;
        Ok(subscriptions.into_iter().map(Into::into).collect())
    }

    /// The server's VAPID public key (base64url), for `pushManager.subscribe`.
    async fn vapid_public_key(&self, ctx: &Context<'_>) -> Result<String> {
        actor(ctx)?;
        Ok(ctx.data::<AppState>()?.push.vapid_public_key().to_owned())
    }

    /// Whether the caller muted conversation `conversationId`.
    async fn notification_settings(
        &self,
        ctx: &Context<'_>,
        conversation_id: Uuid,
    ) -> Result<views::NotificationSettings> {
        let state = ctx.data::<AppState>()?;
        let muted = state
            .chat
            .muted(actor(ctx)?, conversation_id)
            .await
            .map_err(graphql_error)?;
        Ok(views::NotificationSettings { muted })
    }
}

#[derive(Default)]
pub struct PushMutation;

#[Object]
impl PushMutation {
    /// Register one of the caller's devices (the same device again updates it).
    async fn register_push_subscription(
        &self,
        ctx: &Context<'_>,
        input: PushSubscriptionInput,
    ) -> Result<RegisterPushSubscriptionResult> {
        let state = ctx.data::<AppState>()?;
        let registered = state
            .push
            .register(actor(ctx)?, input.into())
            .await
            .map_err(graphql_error)?;
        Ok(RegisterPushSubscriptionResult {
            subscription: registered.subscription.into(),
            created: registered.created,
        })
    }

    /// Remove one of the caller's devices.
    async fn delete_push_subscription(&self, ctx: &Context<'_>, id: Uuid) -> Result<bool> {
        let state = ctx.data::<AppState>()?;
        state
            .push
            .unregister(actor(ctx)?, id)
            .await
            .map_err(graphql_error)?;
        Ok(true)
    }

    /// Mute or unmute conversation `conversationId`'s pushes for the caller.
    async fn set_notification_settings(
        &self,
        ctx: &Context<'_>,
        conversation_id: Uuid,
        muted: bool,
    ) -> Result<views::NotificationSettings> {
        let state = ctx.data::<AppState>()?;
        let muted = state
            .chat
            .set_muted(actor(ctx)?, conversation_id, muted)
            .await
            .map_err(graphql_error)?;
        Ok(views::NotificationSettings { muted })
    }
}
