//! Registering, listing and removing an account's devices. One row per device: the
//! same endpoint or token again updates its row, and one registered by another account
//! moves to the caller (a shared browser or phone now signed in as someone else).

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use super::device::{Device, DeviceRequest};
use super::entity::subscription;
use super::{Provider, PushService, Registered, Subscription};
use crate::DomainError;
use crate::actor::Actor;
use crate::limits::MAX_PUSH_SUBSCRIPTIONS;

impl PushService {
    /// Registers a device of the caller's.
    pub async fn register(
        &self,
        actor: &Actor,
        request: DeviceRequest,
    ) -> Result<Registered, DomainError> {
        let device = Device::check(request, self.settings.allow_loopback)?;
        if !self.settings.configured(device.provider) {
            return Err(DomainError::Validation(format!(
                "kind: push through {} is not configured on this server",
                device.provider.as_str()
            )));
        }
        match self.store(actor, &device).await {
            // Two registrations of a new device raced: the second updates the first's row.
            Err(DomainError::Conflict(_)) => self.store(actor, &device).await,
            other => other,
        }
    }

    async fn store(&self, actor: &Actor, device: &Device) -> Result<Registered, DomainError> {
        let now = crate::clock::now();
        let hash = device.address_hash();
        let txn = self.db.begin().await?;
        let existing = subscription::Entity::find()
            .filter(subscription::Column::AddressHash.eq(hash.as_str()))
            .one(&txn)
            .await?;
        let mine = existing
            .as_ref()
            .is_some_and(|row| row.account_id == actor.account_id);
        if let Some(row) = &existing
            && !mine
            && row.p256dh.as_deref() != device.p256dh.as_deref()
        {
            // The same browser always presents its endpoint with the same keys; another
            // account's endpoint with other keys is not a re-registration.
            return Err(DomainError::Validation(
                "endpoint: already registered by another account's device".into(),
            ));
        }
        if !mine {
            let held = subscription::Entity::find()
                .filter(subscription::Column::AccountId.eq(actor.account_id))
                .count(&txn)
                .await?;
            if held >= MAX_PUSH_SUBSCRIPTIONS as u64 {
                return Err(DomainError::Validation(format!(
                    "kind: an account may register at most {MAX_PUSH_SUBSCRIPTIONS} push subscriptions; delete one first"
                )));
            }
        }
        let row = match existing {
            Some(row) => {
                let mut active: subscription::ActiveModel = row.into();
                active.account_id = Set(actor.account_id);
                active.address = Set(device.address.clone());
                active.p256dh = Set(device.p256dh.clone());
                active.auth = Set(device.auth.clone());
                active.topic = Set(device.topic.clone());
                active.expires_at = Set(device.expires_at);
                active.updated_at = Set(now);
                active.update(&txn).await?
            }
            None => {
                let row = subscription::Model {
                    id: Uuid::now_v7(),
                    account_id: actor.account_id,
                    kind: device.provider.as_str().to_owned(),
                    address_hash: hash,
                    address: device.address.clone(),
                    p256dh: device.p256dh.clone(),
                    auth: device.auth.clone(),
                    topic: device.topic.clone(),
                    expires_at: device.expires_at,
                    created_at: now,
                    updated_at: now,
                };
                subscription::Entity::insert(subscription::ActiveModel::from(row.clone()))
                    .exec_without_returning(&txn)
                    .await
                    .map_err(|e| DomainError::on_duplicate(e, "registered concurrently"))?;
                row
            }
        };
        txn.commit().await?;
        Ok(Registered {
            subscription: row.try_into()?,
            created: !mine,
        })
    }

    /// The caller's devices, oldest first.
    pub async fn subscriptions(&self, actor: &Actor) -> Result<Vec<Subscription>, DomainError> {
        subscription::Entity::find()
            .filter(subscription::Column::AccountId.eq(actor.account_id))
            .order_by_asc(subscription::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(Subscription::try_from)
            .collect()
    }

    /// Removes one of the caller's devices; another account's is not found.
    pub async fn unregister(&self, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
        let removed = subscription::Entity::delete_many()
            .filter(subscription::Column::Id.eq(id))
            .filter(subscription::Column::AccountId.eq(actor.account_id))
            .exec(&self.db)
            .await?;
        if removed.rows_affected == 0 {
            return Err(DomainError::NotFound {
                entity: "push subscription",
            });
        }
        Ok(())
    }
}

impl TryFrom<subscription::Model> for Subscription {
    type Error = DomainError;

    fn try_from(row: subscription::Model) -> Result<Self, DomainError> {
        let provider = Provider::stored(&row.kind)?;
        let endpoint_origin = (provider == Provider::WebPush)
            .then(|| url::Url::parse(&row.address).ok())
            .flatten()
            .map(|url| url.origin().ascii_serialization());
        Ok(Self {
            id: row.id,
            provider,
            endpoint_origin,
            topic: row.topic,
            expires_at: row.expires_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}
