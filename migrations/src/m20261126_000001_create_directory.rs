//! The therapist directory: organisations, therapist profiles and their specialties and
//! languages, with one index per order (name, newest) for the unfiltered list and for
//! each scalar filter, so that every page is an index range scan whatever its depth.

use sea_orm_migration::prelude::*;

use crate::columns::{instant, ordered_string};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Therapists {
    Table,
    Id,
    DisplayName,
    SortName,
    Bio,
    City,
    CityKey,
    Country,
    OrganisationId,
    Accepting,
    OffersOnline,
    OffersInPerson,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TherapistSpecialties {
    Table,
    TherapistId,
    Specialty,
}

#[derive(DeriveIden)]
enum TherapistLanguages {
    Table,
    TherapistId,
    Language,
}

/// Columns a filter narrows by; each gets an index per order.
const FILTER_COLUMNS: [(Therapists, &str); 6] = [
    (Therapists::Country, "country"),
    (Therapists::CityKey, "city"),
    (Therapists::OrganisationId, "organisation"),
    (Therapists::Accepting, "accepting"),
    (Therapists::OffersOnline, "online"),
    (Therapists::OffersInPerson, "in_person"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Organisations::Table)
                    .col(
                        ColumnDef::new(Organisations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Organisations::Name)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(instant(backend, Organisations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Therapists::Table)
                    .col(
                        ColumnDef::new(Therapists::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Therapists::DisplayName)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ordered_string(backend, Therapists::SortName, 200))
                    .col(ColumnDef::new(Therapists::Bio).text().not_null())
                    .col(ColumnDef::new(Therapists::City).string_len(100).not_null())
                    .col(ordered_string(backend, Therapists::CityKey, 100))
                    .col(ColumnDef::new(Therapists::Country).string_len(2).not_null())
                    .col(ColumnDef::new(Therapists::OrganisationId).uuid().null())
                    .col(
                        ColumnDef::new(Therapists::Accepting)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Therapists::OffersOnline)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Therapists::OffersInPerson)
                            .boolean()
                            .not_null(),
                    )
                    .col(instant(backend, Therapists::CreatedAt))
                    .col(instant(backend, Therapists::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_therapists_organisation")
                            .from(Therapists::Table, Therapists::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        create_index(manager, "idx_therapists_name", &[Therapists::SortName]).await?;
        create_index(manager, "idx_therapists_newest", &[Therapists::CreatedAt]).await?;
        for (column, label) in FILTER_COLUMNS {
            create_index(
                manager,
                &format!("idx_therapists_{label}_name"),
                &[column, Therapists::SortName],
            )
            .await?;
            create_index(
                manager,
                &format!("idx_therapists_{label}_newest"),
                &[column, Therapists::CreatedAt],
            )
            .await?;
        }

        for (table, tag, value, name) in [
            (
                TherapistSpecialties::Table.into_iden(),
                TherapistSpecialties::TherapistId.into_iden(),
                TherapistSpecialties::Specialty.into_iden(),
                "specialties",
            ),
            (
                TherapistLanguages::Table.into_iden(),
                TherapistLanguages::TherapistId.into_iden(),
                TherapistLanguages::Language.into_iden(),
                "languages",
            ),
        ] {
            manager
                .create_table(
                    Table::create()
                        .table(table.clone())
                        .col(ColumnDef::new(tag.clone()).uuid().not_null())
                        .col(ColumnDef::new(value.clone()).string_len(64).not_null())
                        .primary_key(Index::create().col(tag.clone()).col(value.clone()))
                        .foreign_key(
                            ForeignKey::create()
                                .name(format!("fk_therapist_{name}_therapist"))
                                .from(table.clone(), tag.clone())
                                .to(Therapists::Table, Therapists::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            // Serves the EXISTS probe of a filter by specialty or language.
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_therapist_{name}_value"))
                        .table(table)
                        .col(value)
                        .col(tag)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TherapistLanguages::Table.into_iden(),
            TherapistSpecialties::Table.into_iden(),
            Therapists::Table.into_iden(),
            Organisations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// An index on `columns` followed by the id, the tie-breaker of every order.
async fn create_index(
    manager: &SchemaManager<'_>,
    name: &str,
    columns: &[Therapists],
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(Therapists::Table);
    for column in columns {
        index.col(*column);
    }
    index.col(Therapists::Id);
    manager.create_index(index).await
}
