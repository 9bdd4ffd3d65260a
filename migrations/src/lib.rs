//! Schema of the therapist portal. Each migration owns one concern and creates the
//! indexes its queries need next to the tables; `api` runs them on `serve` and `migrate`.

// `MigrationTrait` is declared with `&SchemaManager` (elided); an impl must match it.
#![allow(elided_lifetimes_in_paths, reason = "the trait's signature elides it")]

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261126_000001_create_directory;
mod m20261126_000002_create_accounts;
mod m20261126_000003_create_chat;
mod m20261203_000004_create_push;
mod m20261204_000005_create_sync_feed;
mod m20261204_000006_create_totp;
mod m20261204_000007_create_access_log;
mod m20261205_000008_add_erasure;
mod m20261205_000009_therapist_tags_on_row;
mod m20261205_000010_create_sync_pending;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_directory::Migration),
            Box::new(m20261126_000002_create_accounts::Migration),
            Box::new(m20261126_000003_create_chat::Migration),
            Box::new(m20261203_000004_create_push::Migration),
            Box::new(m20261204_000005_create_sync_feed::Migration),
            Box::new(m20261204_000006_create_totp::Migration),
            Box::new(m20261204_000007_create_access_log::Migration),
            Box::new(m20261205_000008_add_erasure::Migration),
            Box::new(m20261205_000009_therapist_tags_on_row::Migration),
            Box::new(m20261205_000010_create_sync_pending::Migration),
        ]
    }
}
