//! Reports found by their state: HR's list of reports owed filtered by `state=` first asks which
//! courses hold a report in that state, and the reminders of decisions waiting read the reports
//! submitted or approved. With only the indexes by course, both read every report of the
//! organisation (1.5–1.9 s at 50,000 staff on SQLite for a state nobody is in); with this index
//! each is one range of the organisation's reports in that state.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TrainingReport {
    Table,
    OrgId,
    State,
    CourseId,
}

const NAME: &str = "ix_training_report_org_state_course";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(NAME)
                .table(TrainingReport::Table)
                .col(TrainingReport::OrgId)
                .col(TrainingReport::State)
                .col(TrainingReport::CourseId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(NAME).table(TrainingReport::Table).to_owned()).await
    }
}
