//! The year's results and owed reports read attendance and absence notices by course: an index
//! for each, so those reads do not scan every year's records.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Attendance {
    Table,
    OrgId,
    CourseId,
}

#[derive(DeriveIden)]
enum AbsenceNotice {
    Table,
    OrgId,
    CourseId,
}

const ATTENDANCE: &str = "ix_attendance_org_course";
const ABSENCE_NOTICE: &str = "ix_absence_notice_org_course";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(ATTENDANCE)
                .table(Attendance::Table)
                .col(Attendance::OrgId)
                .col(Attendance::CourseId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(ABSENCE_NOTICE)
                .table(AbsenceNotice::Table)
                .col(AbsenceNotice::OrgId)
                .col(AbsenceNotice::CourseId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(ABSENCE_NOTICE).table(AbsenceNotice::Table).to_owned()).await?;
        m.drop_index(Index::drop().name(ATTENDANCE).table(Attendance::Table).to_owned()).await
    }
}
