//! On PostgreSQL every committed change to what identifies a caller (an organisation, an
//! employee, a section, a department) notifies channel `kenshu_roster`, so that every service
//! instance drops the callers it holds in memory (`kenshu_persistence::kept`). A trigger, not the
//! code, because rows also change outside the service's write path: `kenshu directory sync` and
//! `kenshu org create` run as their own processes, and an operator may correct a row by hand.
//!
//! One trigger per table and statement (not per row): a roster import of 50,000 rows notifies
//! once, and PostgreSQL folds the identical notifications of one transaction into one, delivered
//! at commit. SQLite has no such channel; the cache is not used there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables a caller is identified from (`repo::principal::fetch`). The channel's name is
/// `kenshu_persistence::change_watch::CHANNEL`; frozen here as a migration must be.
const TABLES: [&str; 4] = ["organisation", "employee", "section", "department"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE FUNCTION kenshu_roster_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_notify('kenshu_roster', ''); RETURN NULL; END $$",
        )
        .await?;
        for table in TABLES {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_roster_changed \
                 AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION kenshu_roster_changed()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        for table in TABLES {
            db.execute_unprepared(&format!("DROP TRIGGER {table}_roster_changed ON {table}")).await?;
        }
        db.execute_unprepared("DROP FUNCTION kenshu_roster_changed()").await?;
        Ok(())
    }
}
