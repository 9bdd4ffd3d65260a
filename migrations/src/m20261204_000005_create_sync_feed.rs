//! The change feed: every change a member must learn about, per account, in the
//! order of an account's own position counter. A reader asks for what follows the
//! position it has seen; the primary key is that range.

use sea_orm_migration::prelude::*;

use crate::columns::instant;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SyncHeads {
    Table,
    AccountId,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
enum SyncFeed {
    Table,
    AccountId,
    Position,
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
        // One row per account that has had a change: its latest position. Updated in
        // the change's own transaction, so its row lock orders an account's changes.
        manager
            .create_table(
                Table::create()
                    .table(SyncHeads::Table)
                    .col(
                        ColumnDef::new(SyncHeads::AccountId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SyncHeads::Position)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SyncFeed::Table)
                    .col(ColumnDef::new(SyncFeed::AccountId).uuid().not_null())
                    .col(ColumnDef::new(SyncFeed::Position).big_integer().not_null())
                    .col(ColumnDef::new(SyncFeed::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(SyncFeed::ConversationId).uuid().not_null())
                    // The message's seq, or the read marker's.
                    .col(ColumnDef::new(SyncFeed::Seq).big_integer().null())
                    // Whose read marker moved.
                    .col(ColumnDef::new(SyncFeed::SubjectId).uuid().null())
                    .col(instant(backend, SyncFeed::RecordedAt))
                    .primary_key(
                        Index::create()
                            .col(SyncFeed::AccountId)
                            .col(SyncFeed::Position),
                    )
                    .to_owned(),
            )
            .await?;
        // Compaction deletes by age.
        manager
            .create_index(
                Index::create()
                    .name("idx_sync_feed_recorded_at")
                    .table(SyncFeed::Table)
                    .col(SyncFeed::RecordedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [SyncFeed::Table.into_iden(), SyncHeads::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
