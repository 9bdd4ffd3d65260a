//! Tables of push, as SeaORM sees them.

pub mod subscription {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "push_subscriptions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub account_id: Uuid,
        /// `webpush`, `fcm` or `apns`.
        pub kind: String,
        /// SHA-256 of kind and address, unique: one row per device.
        pub address_hash: String,
        /// The Web Push endpoint, or the FCM or APNs token.
        pub address: String,
        pub p256dh: Option<String>,
        pub auth: Option<String>,
        pub topic: Option<String>,
        pub expires_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "push_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The recipient.
        pub account_id: Uuid,
        pub conversation_id: Uuid,
        pub seq: i64,
        /// A retry owed to this device only; `None`: every device of the recipient.
        pub subscription_id: Option<Uuid>,
        pub sent_at: DateTimeUtc,
        pub due_at: DateTimeUtc,
        pub attempts: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
