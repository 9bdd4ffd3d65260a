//! Chat: conversations (holding the per-conversation message counter), members (with
//! read markers and the activity key the conversation list is ordered by), messages
//! keyed by `(conversation_id, seq)` and earlier revisions of edited or deleted ones.

use sea_orm_migration::prelude::*;

use crate::columns::{instant, instant_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Conversations {
    Table,
    Id,
    CreatedBy,
    LastSeq,
    LastActivityAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ConversationMembers {
    Table,
    ConversationId,
    AccountId,
    LastReadSeq,
    LastActivityAt,
    JoinedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Messages {
    Table,
    ConversationId,
    Seq,
    SenderId,
    ClientMsgId,
    Body,
    CreatedAt,
    EditedAt,
    DeletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MessageRevisions {
    Table,
    ConversationId,
    Seq,
    Revision,
    Body,
    ReplacedAt,
}

#[derive(DeriveIden)]
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
                    .table(Conversations::Table)
                    .col(
                        ColumnDef::new(Conversations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Conversations::CreatedBy).uuid().not_null())
                    // The last seq handed out: messages hold exactly 1..=last_seq.
                    .col(
                        ColumnDef::new(Conversations::LastSeq)
                            .big_integer()
                            .not_null(),
                    )
                    .col(instant(backend, Conversations::LastActivityAt))
                    .col(instant(backend, Conversations::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ConversationMembers::Table)
                    .col(
                        ColumnDef::new(ConversationMembers::ConversationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConversationMembers::AccountId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConversationMembers::LastReadSeq)
                            .big_integer()
                            .not_null(),
                    )
                    // Copied from the conversation, so each member's list is one index range.
                    .col(instant(backend, ConversationMembers::LastActivityAt))
                    .col(instant(backend, ConversationMembers::JoinedAt))
                    .primary_key(
                        Index::create()
                            .col(ConversationMembers::ConversationId)
                            .col(ConversationMembers::AccountId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_members_conversation")
                            .from(
                                ConversationMembers::Table,
                                ConversationMembers::ConversationId,
                            )
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_members_account")
                            .from(ConversationMembers::Table, ConversationMembers::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_members_account_activity")
                    .table(ConversationMembers::Table)
                    .col(ConversationMembers::AccountId)
                    .col(ConversationMembers::LastActivityAt)
                    .col(ConversationMembers::ConversationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(ColumnDef::new(Messages::ConversationId).uuid().not_null())
                    .col(ColumnDef::new(Messages::Seq).big_integer().not_null())
                    .col(ColumnDef::new(Messages::SenderId).uuid().not_null())
                    .col(
                        ColumnDef::new(Messages::ClientMsgId)
                            .string_len(64)
                            .not_null(),
                    )
                    // NULL once deleted: a tombstone keeps its seq, sender and times.
                    .col(ColumnDef::new(Messages::Body).text().null())
                    .col(instant(backend, Messages::CreatedAt))
                    .col(instant_null(backend, Messages::EditedAt))
                    .col(instant_null(backend, Messages::DeletedAt))
                    // The window query's key, and the only index it can use: there is no
                    // global id for a planner to walk instead.
                    .primary_key(
                        Index::create()
                            .col(Messages::ConversationId)
                            .col(Messages::Seq),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_messages_conversation")
                            .from(Messages::Table, Messages::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_idempotency")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::SenderId)
                    .col(Messages::ClientMsgId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MessageRevisions::Table)
                    .col(
                        ColumnDef::new(MessageRevisions::ConversationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MessageRevisions::Seq)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MessageRevisions::Revision)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MessageRevisions::Body).text().not_null())
                    .col(instant(backend, MessageRevisions::ReplacedAt))
                    .primary_key(
                        Index::create()
                            .col(MessageRevisions::ConversationId)
                            .col(MessageRevisions::Seq)
                            .col(MessageRevisions::Revision),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_revisions_message")
                            .from_tbl(MessageRevisions::Table)
                            .from_col(MessageRevisions::ConversationId)
                            .from_col(MessageRevisions::Seq)
                            .to_tbl(Messages::Table)
                            .to_col(Messages::ConversationId)
                            .to_col(Messages::Seq)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MessageRevisions::Table.into_iden(),
            Messages::Table.into_iden(),
            ConversationMembers::Table.into_iden(),
            Conversations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
