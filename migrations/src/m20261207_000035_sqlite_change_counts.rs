//! On SQLite, a count of the committed changes to each scope of what an instance keeps in memory
//! (`kenshu_persistence::kept`): the roster (organisation, employee, section, department) and the
//! catalogue (training plan, course, course session). SQLite has no notifications; each instance
//! reads these counts every few milliseconds on a connection of its own and drops a scope whose
//! count moved (`kenshu_persistence::change_watch`). Triggers, not the code, as on PostgreSQL
//! (000032, 000033): `kenshu directory sync` and `kenshu org create` run as their own processes,
//! and an operator may correct a row by hand with `sqlite3`.
//!
//! SQLite's triggers run per row, so a roster import of 50,000 rows adds 50,000 increments of
//! one row of this table to its transaction. A later migration that rebuilds one of these tables
//! (SQLite's way to change a table: create, copy, drop, rename) must create its triggers again.
//! PostgreSQL: nothing (its triggers notify instead).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each scope (`kenshu_persistence::kept::Scope::payload` names them, '' being the roster's on
/// PostgreSQL) and its tables; frozen here as a migration must be.
const SCOPES: [(&str, &[&str]); 2] = [
    ("roster", &["organisation", "employee", "section", "department"]),
    ("catalogue", &["training_plan", "course", "course_session"]),
];

const EVENTS: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE TABLE kenshu_change (scope TEXT NOT NULL PRIMARY KEY, changes INTEGER NOT NULL)",
        )
        .await?;
        for (scope, tables) in SCOPES {
            db.execute_unprepared(&format!(
                "INSERT INTO kenshu_change (scope, changes) VALUES ('{scope}', 0)"
            ))
            .await?;
            for table in tables {
                for event in EVENTS {
                    let name = format!("{table}_{}_counted", event.to_lowercase());
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN \
                         UPDATE kenshu_change SET changes = changes + 1 WHERE scope = '{scope}'; END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(());
        }
        let db = m.get_connection();
        for (_, tables) in SCOPES {
            for table in tables {
                for event in EVENTS {
                    let name = format!("{table}_{}_counted", event.to_lowercase());
                    db.execute_unprepared(&format!("DROP TRIGGER {name}")).await?;
                }
            }
        }
        db.execute_unprepared("DROP TABLE kenshu_change").await?;
        Ok(())
    }
}
