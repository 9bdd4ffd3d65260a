//! A therapist's specialties and languages kept on the therapist row as well, so that
//! a directory page is one index range scan returning finished rows. The tag tables
//! stay: filters look tags up there. Each list is the tags in code-point order joined
//! by commas (tags are slugs, which never contain one); an empty list is `''`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Therapists {
    Table,
    SpecialtyList,
    LanguageList,
}

/// Each list column with the tag table and tag column it copies.
const LISTS: [(Therapists, &str, &str); 2] = [
    (
        Therapists::SpecialtyList,
        "therapist_specialties",
        "specialty",
    ),
    (Therapists::LanguageList, "therapist_languages", "language"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        for (column, table, tag) in LISTS {
            // One column per statement: SQLite alters one at a time.
            manager
                .alter_table(
                    Table::alter()
                        .table(Therapists::Table)
                        .add_column(ColumnDef::new(column).text().not_null().default(""))
                        .to_owned(),
                )
                .await?;
            let column = column.unquoted();
            let joined = ordered_join(backend, tag);
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "UPDATE therapists SET {column} = COALESCE((SELECT {joined} FROM {table} \
                     WHERE {table}.therapist_id = therapists.id), '')"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (column, _, _) in LISTS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Therapists::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// The aggregate joining a group's `tag` values with commas in code-point order, as
/// the domain sorts them when it writes a list.
fn ordered_join(backend: DbBackend, tag: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("string_agg({tag}, ',' ORDER BY {tag} COLLATE \"C\")"),
        // The tag columns carry the database's collation there, which need not be
        // code-point order (`utf8mb4_unicode_ci` puts `_` before `-`).
        DbBackend::MySql => {
            format!("GROUP_CONCAT({tag} ORDER BY {tag} COLLATE utf8mb4_bin SEPARATOR ',')")
        }
        // SQLite orders an aggregate's input since 3.44; the bundled one is newer.
        _ => format!("group_concat({tag}, ',' ORDER BY {tag})"),
    }
}
