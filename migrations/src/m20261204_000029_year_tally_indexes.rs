//! The year's results read a fiscal year's nominations, attendance and reports by course. With
//! five years on file the year is a fifth of each table, and the planner scanned the whole table
//! rather than fetch a fifth of its rows one by one (2.4 s for 50,000 staff, most of it in the
//! wide report rows). These indexes carry the columns the results read, so each is read from the
//! index alone, in course order.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Attendance {
    Table,
    OrgId,
    CourseId,
    NominationId,
    Status,
    SessionId,
}

#[derive(DeriveIden)]
enum TrainingReport {
    Table,
    OrgId,
    CourseId,
    NominationId,
    FirstSubmittedAt,
}

const ATTENDANCE_BY_COURSE: &str = "ix_attendance_org_course";
const ATTENDANCE_TALLY: &str = "ix_attendance_org_course_tally";
const REPORT_BY_COURSE: &str = "ix_training_report_org_course";
const REPORT_TALLY: &str = "ix_training_report_org_course_tally";

/// The one-per-employee-and-course key, on PostgreSQL also carrying what the results read of a
/// nomination (`INCLUDE` has no SQLite counterpart; SQLite reads the rows by rowid).
async fn nomination_key(m: &SchemaManager<'_>, covering: bool) -> Result<(), DbErr> {
    if m.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let include = if covering { " INCLUDE (id, route, state)" } else { "" };
    let db = m.get_connection();
    db.execute_unprepared("DROP INDEX ux_nomination_org_course_employee").await?;
    db.execute_unprepared(&format!(
        "CREATE UNIQUE INDEX ux_nomination_org_course_employee ON nomination (org_id, course_id, employee_id){include}"
    ))
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(ATTENDANCE_TALLY)
                .table(Attendance::Table)
                .col(Attendance::OrgId)
                .col(Attendance::CourseId)
                .col(Attendance::NominationId)
                .col(Attendance::Status)
                .col(Attendance::SessionId)
                .to_owned(),
        )
        .await?;
        m.drop_index(Index::drop().name(ATTENDANCE_BY_COURSE).table(Attendance::Table).to_owned()).await?;
        m.create_index(
            Index::create()
                .name(REPORT_TALLY)
                .table(TrainingReport::Table)
                .col(TrainingReport::OrgId)
                .col(TrainingReport::CourseId)
                .col(TrainingReport::NominationId)
                .col(TrainingReport::FirstSubmittedAt)
                .to_owned(),
        )
        .await?;
        m.drop_index(Index::drop().name(REPORT_BY_COURSE).table(TrainingReport::Table).to_owned()).await?;
        nomination_key(m, true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        nomination_key(m, false).await?;
        m.create_index(
            Index::create()
                .name(REPORT_BY_COURSE)
                .table(TrainingReport::Table)
                .col(TrainingReport::OrgId)
                .col(TrainingReport::CourseId)
                .to_owned(),
        )
        .await?;
        m.drop_index(Index::drop().name(REPORT_TALLY).table(TrainingReport::Table).to_owned()).await?;
        m.create_index(
            Index::create()
                .name(ATTENDANCE_BY_COURSE)
                .table(Attendance::Table)
                .col(Attendance::OrgId)
                .col(Attendance::CourseId)
                .to_owned(),
        )
        .await?;
        m.drop_index(Index::drop().name(ATTENDANCE_TALLY).table(Attendance::Table).to_owned()).await
    }
}
