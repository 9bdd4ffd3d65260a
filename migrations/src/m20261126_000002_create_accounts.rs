//! Accounts (a therapist account links to its directory profile), rotating refresh
//! tokens grouped in families, and the audit log of support and admin actions.

use sea_orm_migration::prelude::*;

use crate::columns::instant;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Accounts {
    Table,
    Id,
    Email,
    DisplayName,
    Role,
    Disabled,
    PasswordHash,
    TherapistId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Therapists {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum RefreshTokens {
    Table,
    Id,
    FamilyId,
    AccountId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    Revoked,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEntries {
    Table,
    Id,
    ActorId,
    Action,
    TargetType,
    TargetId,
    RequestId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(ColumnDef::new(Accounts::Id).uuid().not_null().primary_key())
                    // Stored lowercased: uniqueness is case-insensitive on every backend.
                    .col(crate::columns::ordered_string(
                        backend,
                        Accounts::Email,
                        254,
                    ))
                    .col(
                        ColumnDef::new(Accounts::DisplayName)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Accounts::Role).string_len(16).not_null())
                    .col(ColumnDef::new(Accounts::Disabled).boolean().not_null())
                    .col(
                        ColumnDef::new(Accounts::PasswordHash)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Accounts::TherapistId).uuid().null())
                    .col(instant(backend, Accounts::CreatedAt))
                    .col(instant(backend, Accounts::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_accounts_therapist")
                            .from(Accounts::Table, Accounts::TherapistId)
                            .to(Therapists::Table, Therapists::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            ("idx_accounts_email", vec![Accounts::Email], true),
            ("idx_accounts_therapist", vec![Accounts::TherapistId], true),
            (
                "idx_accounts_role_email",
                vec![Accounts::Role, Accounts::Email],
                false,
            ),
            (
                "idx_accounts_disabled_email",
                vec![Accounts::Disabled, Accounts::Email],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Accounts::Table);
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(
                        ColumnDef::new(RefreshTokens::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RefreshTokens::FamilyId).uuid().not_null())
                    .col(ColumnDef::new(RefreshTokens::AccountId).uuid().not_null())
                    .col(
                        ColumnDef::new(RefreshTokens::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(instant(backend, RefreshTokens::ExpiresAt))
                    .col(crate::columns::instant_null(backend, RefreshTokens::UsedAt))
                    .col(ColumnDef::new(RefreshTokens::Revoked).boolean().not_null())
                    .col(instant(backend, RefreshTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_account")
                            .from(RefreshTokens::Table, RefreshTokens::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_hash")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEntries::Table)
                    // UUID v7: ordering by id is ordering by time, so the id alone keys pages.
                    .col(
                        ColumnDef::new(AuditEntries::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditEntries::ActorId).uuid().not_null())
                    .col(
                        ColumnDef::new(AuditEntries::Action)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEntries::TargetType)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEntries::TargetId).uuid().not_null())
                    .col(
                        ColumnDef::new(AuditEntries::RequestId)
                            .string_len(128)
                            .null(),
                    )
                    .col(instant(backend, AuditEntries::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_entries_target")
                    .table(AuditEntries::Table)
                    .col(AuditEntries::TargetId)
                    .col(AuditEntries::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEntries::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Accounts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
