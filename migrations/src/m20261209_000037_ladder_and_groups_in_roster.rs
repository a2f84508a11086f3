//! The grade ladder and study groups join the roster scope of what an instance keeps in memory
//! (`kenshu_persistence::kept`): the courses a member of staff can take (`/me/courses`) are
//! matched on their grade read through the ladder and on the years they belong to a study group,
//! so a kept member or ladder must be dropped when either changes, by the service or outside it.
//! PostgreSQL: the statement triggers of 000032 on two more tables. SQLite: the counting
//! triggers of 000035 on two more tables (a table rebuild must create them again).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Frozen here as a migration must be.
const TABLES: [&str; 2] = ["grade", "study_group"];

const EVENTS: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for table in TABLES {
            match m.get_database_backend() {
                DatabaseBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_roster_changed \
                         AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION kenshu_roster_changed()"
                    ))
                    .await?;
                }
                _ => {
                    for event in EVENTS {
                        let name = format!("{table}_{}_counted", event.to_lowercase());
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN \
                             UPDATE kenshu_change SET changes = changes + 1 WHERE scope = 'roster'; END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for table in TABLES {
            match m.get_database_backend() {
                DatabaseBackend::Postgres => {
                    db.execute_unprepared(&format!("DROP TRIGGER {table}_roster_changed ON {table}")).await?;
                }
                _ => {
                    for event in EVENTS {
                        let name = format!("{table}_{}_counted", event.to_lowercase());
                        db.execute_unprepared(&format!("DROP TRIGGER {name}")).await?;
                    }
                }
            }
        }
        Ok(())
    }
}
