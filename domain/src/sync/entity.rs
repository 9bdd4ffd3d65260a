//! Tables of the change feed, as SeaORM sees them.

pub mod head {
    use sea_orm::entity::prelude::*;

    /// An account's latest feed position.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sync_heads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_id: Uuid,
        pub position: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod feed {
    use sea_orm::entity::prelude::*;

    /// One change an account must learn about, at its position in their feed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sync_feed")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i64,
        /// `message`, `read_marker`, `conversation`, `muted` or `unmuted`.
        pub kind: String,
        pub conversation_id: Uuid,
        /// The message's seq, or the read marker's.
        pub seq: Option<i64>,
        /// Whose read marker moved.
        pub subject_id: Option<Uuid>,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod pending {
    use sea_orm::entity::prelude::*;

    /// A change recorded in its own transaction, waiting for its feed position.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sync_pending")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: Uuid,
        pub kind: String,
        pub conversation_id: Uuid,
        pub seq: Option<i64>,
        pub subject_id: Option<Uuid>,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
