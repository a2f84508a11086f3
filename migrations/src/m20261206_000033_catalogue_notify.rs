//! On PostgreSQL every committed change to what a course read is made of (a training plan, a
//! course, a course session) notifies channel `kenshu_roster` with the payload `catalogue`, so
//! that every service instance drops the courses it keeps in memory (`kenshu_persistence::kept`).
//! A trigger, not the code, for the same reasons as migration 000032's: other replicas, the
//! commands that run as their own processes (a catalogue import) and an operator's hand edits.
//!
//! The channel is 000032's: one listening connection hears both, and an instance's own heartbeat
//! on it proves it has heard every earlier change of either kind. An instance of an earlier
//! version, still running during an upgrade, drops everything it keeps on this payload.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables a course read comes from (`repo::catalogue::get_course_with_sessions`).
const TABLES: [&str; 3] = ["training_plan", "course", "course_session"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE FUNCTION kenshu_catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_notify('kenshu_roster', 'catalogue'); RETURN NULL; END $$",
        )
        .await?;
        for table in TABLES {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_catalogue_changed \
                 AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION kenshu_catalogue_changed()"
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
            db.execute_unprepared(&format!("DROP TRIGGER {table}_catalogue_changed ON {table}")).await?;
        }
        db.execute_unprepared("DROP FUNCTION kenshu_catalogue_changed()").await?;
        Ok(())
    }
}
