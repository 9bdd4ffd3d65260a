//! Push: a message reaches a member whose app is closed. Devices are registered per
//! account (`registry`); storing a message writes, in its own transaction, a job per
//! recipient to the outbox (`outbox`); payloads name a conversation and a seq and
//! never carry a body or a name. Client-chosen endpoints are judged by `address`.

pub mod address;
mod apns;
mod counters;
mod device;
mod dispatch;
mod entity;
mod facts;
mod fcm;
mod http;
mod outbox;
mod payload;
mod provider;
mod registry;
mod token_cache;
mod vapid;
mod webpush;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use apns::{ApnsKey, ApnsSettings};
pub use counters::PushCounters;
pub use device::{DeviceRequest, Provider};
pub use dispatch::Dispatcher;
pub use entity::{outbox as outbox_entity, subscription};
pub use fcm::{FcmAccount, FcmSettings};
pub use outbox::{Outbox, OutboxStats};
pub use payload::Payload;
pub use provider::Outcome;
pub use vapid::VapidKey;

use crate::database::Db;

/// How push behaves on this deployment.
#[derive(Debug, Clone)]
pub struct PushSettings {
    pub vapid: VapidKey,
    /// Providers besides Web Push, when this deployment has their credentials.
    pub fcm: Option<FcmSettings>,
    pub apns: Option<ApnsSettings>,
    /// Admits `http://` endpoints on loopback and sending to loopback (tests only).
    pub allow_loopback: bool,
    /// How long a recipient has to read a message before it is pushed.
    pub read_delay: Duration,
    /// A push not delivered this long after its message was sent is dropped.
    pub max_age: Duration,
    /// The VAPID `sub` claim: a `mailto:` or `https:` contact for push services.
    pub vapid_subject: String,
}

impl PushSettings {
    /// The handle that writes jobs when messages are stored.
    pub fn outbox(&self) -> outbox::Outbox {
        outbox::Outbox {
            read_delay: self.read_delay,
        }
    }

    /// Whether pushes can go out through `provider` here.
    fn configured(&self, provider: Provider) -> bool {
        match provider {
            Provider::WebPush => true,
            Provider::Fcm => self.fcm.is_some(),
            Provider::Apns => self.apns.is_some(),
        }
    }
}

/// A registered device, as its owner sees it. The endpoint or token itself is never
/// shown again: it is a credential for pushing to that device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: Uuid,
    pub provider: Provider,
    /// Web Push: the push service's origin, so that a user can tell devices apart.
    pub endpoint_origin: Option<String>,
    /// APNs: the app's bundle id.
    pub topic: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The result of a registration: the subscription, and whether it is new to the caller.
#[derive(Debug, Clone)]
pub struct Registered {
    pub subscription: Subscription,
    pub created: bool,
}

/// Devices and the outbox.
#[derive(Debug, Clone)]
pub struct PushService {
    db: Db,
    settings: PushSettings,
    counters: PushCounters,
}

impl PushService {
    pub fn new(db: Db, settings: PushSettings) -> Self {
        Self {
            db,
            settings,
            counters: PushCounters::default(),
        }
    }

    /// The dispatcher of this node, sending through every configured provider and
    /// reading the outbox over `db`: a pool of its own, so that pushing never takes
    /// a connection a request is waiting for.
    pub fn dispatcher(&self, db: Db) -> Result<Dispatcher, crate::DomainError> {
        let web_push = webpush::WebPush::new(
            self.settings.vapid.clone(),
            self.settings.vapid_subject.clone(),
            self.settings.allow_loopback,
        );
        let mut providers =
            dispatch::Providers::default().with(Provider::WebPush, Arc::new(web_push));
        if let Some(fcm) = &self.settings.fcm {
            providers = providers.with(Provider::Fcm, Arc::new(fcm::Fcm::new(fcm)?));
        }
        if let Some(apns) = &self.settings.apns {
            providers = providers.with(Provider::Apns, Arc::new(apns::Apns::new(apns)));
        }
        Ok(Dispatcher::new(
            db,
            providers,
            &self.settings,
            self.counters.clone(),
        ))
    }

    /// What the dispatchers of this node have done.
    pub fn counters(&self) -> &PushCounters {
        &self.counters
    }

    /// The VAPID public key browsers subscribe with.
    pub fn vapid_public_key(&self) -> &str {
        self.settings.vapid.public_key()
    }

    /// What the outbox holds now.
    pub async fn outbox_stats(&self) -> Result<OutboxStats, crate::DomainError> {
        outbox::stats(&self.db).await
    }
}
