//! Two-factor sign-in (RFC 6238 TOTP): an account's shared secret, pending until a
//! first code confirms it, the last time step a code was accepted for (so each code
//! works once), and its one-time recovery codes, stored hashed.

use sea_orm_migration::prelude::*;

use crate::columns::{instant, instant_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AccountTotp {
    Table,
    AccountId,
    Secret,
    ConfirmedAt,
    LastStep,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TotpRecoveryCodes {
    Table,
    AccountId,
    CodeHash,
    UsedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Accounts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(AccountTotp::Table)
                    .col(
                        ColumnDef::new(AccountTotp::AccountId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    // Base32, as authenticator apps take it.
                    .col(
                        ColumnDef::new(AccountTotp::Secret)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(instant_null(backend, AccountTotp::ConfirmedAt))
                    .col(ColumnDef::new(AccountTotp::LastStep).big_integer().null())
                    .col(instant(backend, AccountTotp::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccountTotp::Table, AccountTotp::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TotpRecoveryCodes::Table)
                    .col(
                        ColumnDef::new(TotpRecoveryCodes::AccountId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TotpRecoveryCodes::CodeHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(instant_null(backend, TotpRecoveryCodes::UsedAt))
                    .primary_key(
                        Index::create()
                            .col(TotpRecoveryCodes::AccountId)
                            .col(TotpRecoveryCodes::CodeHash),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TotpRecoveryCodes::Table, TotpRecoveryCodes::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TotpRecoveryCodes::Table.into_iden(),
            AccountTotp::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
