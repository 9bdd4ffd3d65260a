//! The access log (NEN 7513): every read of a client's data by someone other than
//! that client: who (account and role), about which client, what (resource kind and
//! id), why (purpose), through which door, in which request, when. Repeated reads
//! within a window share one entry with the first and last time and a count.

use sea_orm_migration::prelude::*;

use crate::columns::instant;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AccessLog {
    Table,
    Id,
    ClientId,
    ActorId,
    ActorRole,
    ResourceKind,
    ResourceId,
    Purpose,
    Door,
    RequestId,
    FirstAt,
    LastAt,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(AccessLog::Table)
                    // UUIDv7: in the order entries were opened; the lists' keyset.
                    .col(
                        ColumnDef::new(AccessLog::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AccessLog::ClientId).uuid().not_null())
                    .col(ColumnDef::new(AccessLog::ActorId).uuid().not_null())
                    .col(
                        ColumnDef::new(AccessLog::ActorRole)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AccessLog::ResourceKind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AccessLog::ResourceId).uuid().not_null())
                    .col(ColumnDef::new(AccessLog::Purpose).string_len(16).not_null())
                    .col(ColumnDef::new(AccessLog::Door).string_len(16).not_null())
                    .col(ColumnDef::new(AccessLog::RequestId).string_len(64).null())
                    .col(instant(backend, AccessLog::FirstAt))
                    .col(instant(backend, AccessLog::LastAt))
                    .col(ColumnDef::new(AccessLog::Count).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        // A client's own view, newest first; the admins' filters by client or actor.
        for (name, column) in [
            ("idx_access_log_client", AccessLog::ClientId),
            ("idx_access_log_actor", AccessLog::ActorId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AccessLog::Table)
                        .col(column)
                        .col(AccessLog::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccessLog::Table).to_owned())
            .await
    }
}
