//! Changes waiting for their feed position. A change is written here in its own
//! transaction, with no lock shared between writers; a sequencing round moves it into
//! `sync_feed` right after the commit, giving out an account's positions under its
//! head row's lock. So a busy account's changes commit side by side and share the
//! log flush, instead of queueing one flush at a time behind the head row.

use sea_orm_migration::prelude::*;

use crate::columns::instant;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SyncPending {
    Table,
    Id,
    AccountId,
    Kind,
    ConversationId,
    Seq,
    SubjectId,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(SyncPending::Table)
                    // Taken at insert, so a change made after another committed has
                    // the larger id: a round orders what it moves by it.
                    .col(
                        ColumnDef::new(SyncPending::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SyncPending::AccountId).uuid().not_null())
                    .col(ColumnDef::new(SyncPending::Kind).string_len(16).not_null())
                    .col(
                        ColumnDef::new(SyncPending::ConversationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SyncPending::Seq).big_integer().null())
                    .col(ColumnDef::new(SyncPending::SubjectId).uuid().null())
                    .col(instant(backend, SyncPending::RecordedAt))
                    .to_owned(),
            )
            .await?;
        // A round moves one account's waiting changes in id order.
        manager
            .create_index(
                Index::create()
                    .name("idx_sync_pending_account")
                    .table(SyncPending::Table)
                    .col(SyncPending::AccountId)
                    .col(SyncPending::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncPending::Table).to_owned())
            .await
    }
}
