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

    /// A row of `Entity::find()`, read by position in [`Column`] order: by name,
    /// each of the 15 columns of each row of a page cost a name lookup and a type
    /// check (`perf` put sqlx's column lookup and sea-orm's by-name reads at about a
    /// tenth of `portal`'s CPU per directory page).
    pub struct Positional(pub Model);

    impl sea_orm::FromQueryResult for Positional {
        fn from_query_result(row: &QueryResult, _prefix: &str) -> Result<Self, DbErr> {
            Ok(Self(Model {
                id: row.try_get_by_index(0)?,
                display_name: row.try_get_by_index(1)?,
                sort_name: row.try_get_by_index(2)?,
                bio: row.try_get_by_index(3)?,
                city: row.try_get_by_index(4)?,
                city_key: row.try_get_by_index(5)?,
                country: row.try_get_by_index(6)?,
                organisation_id: row.try_get_by_index(7)?,
                accepting: row.try_get_by_index(8)?,
                offers_online: row.try_get_by_index(9)?,
                offers_in_person: row.try_get_by_index(10)?,
                created_at: row.try_get_by_index(11)?,
                updated_at: row.try_get_by_index(12)?,
                specialty_list: row.try_get_by_index(13)?,
                language_list: row.try_get_by_index(14)?,
            }))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use sea_orm::Iterable;

        #[test]
        fn positional_reads_the_columns_in_the_order_find_selects_them() {
            let names: Vec<String> = Column::iter().map(|c| c.as_str().to_owned()).collect();
            assert_eq!(
                names,
                [
                    "id",
                    "display_name",
                    "sort_name",
                    "bio",
                    "city",
                    "city_key",
                    "country",
                    "organisation_id",
                    "accepting",
                    "offers_online",
                    "offers_in_person",
                    "created_at",
                    "updated_at",
                    "specialty_list",
                    "language_list",
                ]
            );
        }
    }
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
