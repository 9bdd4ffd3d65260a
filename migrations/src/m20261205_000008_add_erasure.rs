//! Erasure (GDPR Art. 17) and the legal hold that can forbid it: when an account was
//! erased, whether a hold keeps its records, and the reason an admin gives for
//! either, kept with the audit entry of the action.

use sea_orm_migration::prelude::*;

use crate::columns::instant_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Accounts {
    Table,
    LegalHold,
    ErasedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEntries {
    Table,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        // One column per statement: SQLite alters one at a time.
        for (table, column) in [
            (
                Accounts::Table.into_iden(),
                ColumnDef::new(Accounts::LegalHold)
                    .boolean()
                    .not_null()
                    .default(false)
                    .take(),
            ),
            (
                Accounts::Table.into_iden(),
                instant_null(backend, Accounts::ErasedAt),
            ),
            (
                AuditEntries::Table.into_iden(),
                ColumnDef::new(AuditEntries::Reason)
                    .string_len(500)
                    .null()
                    .take(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            (Accounts::Table.into_iden(), Accounts::LegalHold.into_iden()),
            (Accounts::Table.into_iden(), Accounts::ErasedAt.into_iden()),
            (
                AuditEntries::Table.into_iden(),
                AuditEntries::Reason.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
