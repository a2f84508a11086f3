//! 研修報告書: one post-training report per nomination. The due date is not stored: it follows
//! from the course's rule and its last session, which HR may still move.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Nomination {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TrainingReport {
    Table,
    Id,
    OrgId,
    NominationId,
    CourseId,
    EmployeeId,
    Learned,
    Application,
    Comments,
    State,
    ReturnComment,
    FirstSubmittedAt,
    SubmittedAt,
    ApprovedBy,
    ApprovedAt,
    ReceivedBy,
    ReceivedAt,
    SharedOn,
    SharedNote,
    SharedBy,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TrainingReport::Table)
                .col(ColumnDef::new(TrainingReport::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(TrainingReport::OrgId).uuid().not_null())
                .col(ColumnDef::new(TrainingReport::NominationId).uuid().not_null())
                .col(ColumnDef::new(TrainingReport::CourseId).uuid().not_null())
                .col(ColumnDef::new(TrainingReport::EmployeeId).uuid().not_null())
                .col(ColumnDef::new(TrainingReport::Learned).text().not_null())
                .col(ColumnDef::new(TrainingReport::Application).text().not_null())
                .col(ColumnDef::new(TrainingReport::Comments).text().null())
                .col(ColumnDef::new(TrainingReport::State).string_len(16).not_null().check(
                    Expr::col(TrainingReport::State).is_in([
                        "draft",
                        "submitted",
                        "approved",
                        "returned",
                        "received",
                    ]),
                ))
                .col(ColumnDef::new(TrainingReport::ReturnComment).text().null())
                // Lateness is judged on the first submission: a return is not the trainee's delay.
                .col(ColumnDef::new(TrainingReport::FirstSubmittedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(TrainingReport::SubmittedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(TrainingReport::ApprovedBy).string_len(100).null())
                .col(ColumnDef::new(TrainingReport::ApprovedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(TrainingReport::ReceivedBy).string_len(100).null())
                .col(ColumnDef::new(TrainingReport::ReceivedAt).timestamp_with_time_zone().null())
                // 職場還元: when the trainee shared what was learned (dispatch training).
                .col(ColumnDef::new(TrainingReport::SharedOn).date().null())
                .col(ColumnDef::new(TrainingReport::SharedNote).text().null())
                .col(ColumnDef::new(TrainingReport::SharedBy).string_len(100).null())
                .col(ColumnDef::new(TrainingReport::Version).integer().not_null().default(1))
                .col(ColumnDef::new(TrainingReport::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(TrainingReport::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_training_report_nomination")
                        .from(TrainingReport::Table, TrainingReport::NominationId)
                        .to(Nomination::Table, Nomination::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_training_report_org_nomination")
                .table(TrainingReport::Table)
                .col(TrainingReport::OrgId)
                .col(TrainingReport::NominationId)
                .unique()
                .to_owned(),
        )
        .await?;
        // A course's reports, for HR's lists and the results.
        m.create_index(
            Index::create()
                .name("ix_training_report_org_course")
                .table(TrainingReport::Table)
                .col(TrainingReport::OrgId)
                .col(TrainingReport::CourseId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TrainingReport::Table).to_owned()).await
    }
}
