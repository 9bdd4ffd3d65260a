//! Column types whose spelling differs between SQLite, PostgreSQL and MariaDB.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// A UTC instant with microseconds. MariaDB's `TIMESTAMP` (what the generic helper
/// becomes there) drops fractions and ends in 2038, so it gets `DATETIME(6)`.
pub fn instant<T: IntoIden>(backend: DbBackend, name: T) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match backend {
        DbBackend::MySql => column.custom(Alias::new("DATETIME(6)")),
        _ => column.timestamp_with_time_zone(),
    };
    column.not_null().take()
}

/// A string compared and ordered by code point on every backend, so that keyset order,
/// prefix ranges and the order the tests expect are the same everywhere.
pub fn ordered_string<T: IntoIden>(backend: DbBackend, name: T, length: u32) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match backend {
        // The collation belongs to the type there, before NOT NULL.
        DbBackend::MySql => column.custom(Alias::new(format!(
            "VARCHAR({length}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))),
        DbBackend::Postgres => column.string_len(length).extra("COLLATE \"C\""),
        _ => column.string_len(length),
    };
    column.not_null().take()
}

/// Like [`instant`], but nullable.
pub fn instant_null<T: IntoIden>(backend: DbBackend, name: T) -> ColumnDef {
    let mut column = instant(backend, name);
    column.null().take()
}
