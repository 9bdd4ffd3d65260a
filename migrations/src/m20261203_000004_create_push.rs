//! Push: the devices an account registered (Web Push subscriptions, FCM and APNs
//! tokens), the outbox of pushes owed for stored messages, and each member's mute
//! switch on a conversation.

use sea_orm_migration::prelude::*;

use crate::columns::{instant, instant_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum PushSubscriptions {
    Table,
    Id,
    AccountId,
    Kind,
    AddressHash,
    Address,
    P256dh,
    Auth,
    Topic,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PushOutbox {
    Table,
    Id,
    AccountId,
    ConversationId,
    Seq,
    SubscriptionId,
    SentAt,
    DueAt,
    Attempts,
}

#[derive(DeriveIden, Clone, Copy)]
enum ConversationMembers {
    Table,
    Muted,
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
                    .table(PushSubscriptions::Table)
                    .col(
                        ColumnDef::new(PushSubscriptions::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PushSubscriptions::AccountId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PushSubscriptions::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    // SHA-256 of kind and address: one row per device on every backend
                    // (MariaDB cannot index a 2,048-character column whole).
                    .col(
                        ColumnDef::new(PushSubscriptions::AddressHash)
                            .string_len(64)
                            .not_null(),
                    )
                    // The Web Push endpoint, or the FCM or APNs token.
                    .col(ColumnDef::new(PushSubscriptions::Address).text().not_null())
                    .col(ColumnDef::new(PushSubscriptions::P256dh).text().null())
                    .col(ColumnDef::new(PushSubscriptions::Auth).text().null())
                    .col(ColumnDef::new(PushSubscriptions::Topic).text().null())
                    .col(instant_null(backend, PushSubscriptions::ExpiresAt))
                    .col(instant(backend, PushSubscriptions::CreatedAt))
                    .col(instant(backend, PushSubscriptions::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_push_subscriptions_account")
                            .from(PushSubscriptions::Table, PushSubscriptions::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_push_subscriptions_device")
                    .table(PushSubscriptions::Table)
                    .col(PushSubscriptions::AddressHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_push_subscriptions_account")
                    .table(PushSubscriptions::Table)
                    .col(PushSubscriptions::AccountId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PushOutbox::Table)
                    .col(
                        ColumnDef::new(PushOutbox::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    // The recipient; a push goes to each of their devices.
                    .col(ColumnDef::new(PushOutbox::AccountId).uuid().not_null())
                    .col(ColumnDef::new(PushOutbox::ConversationId).uuid().not_null())
                    .col(ColumnDef::new(PushOutbox::Seq).big_integer().not_null())
                    // Set on a retry that is owed to one device only; NULL: every device.
                    .col(ColumnDef::new(PushOutbox::SubscriptionId).uuid().null())
                    .col(instant(backend, PushOutbox::SentAt))
                    // When a dispatcher may take it: after the read delay, after a
                    // backoff, or when a claim's lease runs out.
                    .col(instant(backend, PushOutbox::DueAt))
                    .col(
                        ColumnDef::new(PushOutbox::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_push_outbox_due")
                    .table(PushOutbox::Table)
                    .col(PushOutbox::DueAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_push_outbox_recipient")
                    .table(PushOutbox::Table)
                    .col(PushOutbox::AccountId)
                    .col(PushOutbox::DueAt)
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(ConversationMembers::Table)
                    .add_column(
                        ColumnDef::new(ConversationMembers::Muted)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ConversationMembers::Table)
                    .drop_column(ConversationMembers::Muted)
                    .to_owned(),
            )
            .await?;
        for table in [
            PushOutbox::Table.into_iden(),
            PushSubscriptions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
