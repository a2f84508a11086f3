//! On SQLite, the year's results read from indexes alone. SQLite has no `INCLUDE` (migration
//! 000031 gives PostgreSQL's key the counted columns), so it fetched each of a year's 200,000
//! nominations from the 2 GB table by rowid, and then each trainee's whole employee row for the
//! grade and section: at 50,000 staff the two grouped reads took 0.5 and 0.9 s in the shell. With
//! an index of the nomination's counted columns by course, and one of each employee's grade and
//! section by id, 0.27 and 0.54 s. Each costs a few microseconds more per nomination or employee
//! written (13,000 counts updated: 0.09–0.14 s before, 0.12–0.18 s after). In employee order
//! with the nomination's id, the first index also answers the lists of reports owed, which read
//! a course's trainees in that order (id, state, count attended, day first submitted): from the
//! table, a course of 650 took 0.17 s of page reads cold, from the index 0.02 s. PostgreSQL:
//! nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Nomination {
    Table,
    OrgId,
    CourseId,
    EmployeeId,
    Id,
    Route,
    State,
    SessionsAttended,
    AbsencesExcused,
    AbsencesUnexcused,
    ReportFirstSubmittedOn,
}

#[derive(DeriveIden)]
enum Employee {
    Table,
    OrgId,
    Id,
    Grade,
    SectionId,
}

const NOMINATION_COUNTED: &str = "ix_nomination_org_course_counted";
const EMPLOYEE_PLACED: &str = "ix_employee_org_id_placed";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        m.create_index(
            Index::create()
                .name(NOMINATION_COUNTED)
                .table(Nomination::Table)
                .col(Nomination::OrgId)
                .col(Nomination::CourseId)
                .col(Nomination::EmployeeId)
                .col(Nomination::Id)
                .col(Nomination::Route)
                .col(Nomination::State)
                .col(Nomination::SessionsAttended)
                .col(Nomination::AbsencesExcused)
                .col(Nomination::AbsencesUnexcused)
                .col(Nomination::ReportFirstSubmittedOn)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(EMPLOYEE_PLACED)
                .table(Employee::Table)
                .col(Employee::OrgId)
                .col(Employee::Id)
                .col(Employee::Grade)
                .col(Employee::SectionId)
                .to_owned(),
        )
        .await?;
        // Where the tables already have the planner's statistics (a roster was imported), the new
        // indexes get theirs: without, SQLite keeps looking employees up by the primary key.
        // Where they have none, none are made: statistics for these indexes alone would weigh
        // them against guesses for the rest.
        let db = m.get_connection();
        let analysed = db
            .query_all(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'",
            ))
            .await?;
        if analysed.is_empty() {
            return Ok(());
        }
        for (table, index) in [("nomination", NOMINATION_COUNTED), ("employee", EMPLOYEE_PLACED)] {
            let has_stats = db
                .query_all(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "SELECT 1 FROM sqlite_stat1 WHERE tbl = ?",
                    [table.into()],
                ))
                .await?;
            if !has_stats.is_empty() {
                db.execute_unprepared(&format!("ANALYZE {index}")).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        m.drop_index(Index::drop().name(EMPLOYEE_PLACED).table(Employee::Table).to_owned()).await?;
        m.drop_index(Index::drop().name(NOMINATION_COUNTED).table(Nomination::Table).to_owned()).await
    }
}
