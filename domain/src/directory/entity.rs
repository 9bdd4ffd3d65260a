//! Tables of the directory, as SeaORM sees them.

pub mod organisation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "organisations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod therapist {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "therapists")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub display_name: String,
        /// Lowercased display name: the name order and the `q` prefix range use it.
        pub sort_name: String,
        pub bio: String,
        pub city: String,
        /// Lowercased city, for the case-insensitive city filter.
        pub city_key: String,
        pub country: String,
        pub organisation_id: Option<Uuid>,
        pub accepting: String,
        pub offers_online: bool,
        pub offers_in_person: bool,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// The specialties as a page shows them: sorted, joined by commas, written
        /// with the tag rows (`super::tag_list`), so a page reads no tag table.
        pub specialty_list: String,
        /// The languages, kept like `specialty_list`.
        pub language_list: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod specialty {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "therapist_specialties")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub therapist_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub specialty: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod language {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "therapist_languages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub therapist_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub language: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
