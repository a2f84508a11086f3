//! 受講後アンケート: a course's questions, and one response per trainee (nomination). Responses
//! keep the nomination only to refuse a second answer; the aggregate never shows it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Course {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Nomination {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CourseSurvey {
    Table,
    Id,
    OrgId,
    CourseId,
    /// JSON array of questions.
    Questions,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SurveyResponse {
    Table,
    Id,
    OrgId,
    CourseId,
    NominationId,
    /// JSON array of answers.
    Answers,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CourseSurvey::Table)
                .col(ColumnDef::new(CourseSurvey::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(CourseSurvey::OrgId).uuid().not_null())
                .col(ColumnDef::new(CourseSurvey::CourseId).uuid().not_null())
                .col(ColumnDef::new(CourseSurvey::Questions).text().not_null())
                .col(ColumnDef::new(CourseSurvey::Version).integer().not_null().default(1))
                .col(ColumnDef::new(CourseSurvey::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(CourseSurvey::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_course_survey_course")
                        .from(CourseSurvey::Table, CourseSurvey::CourseId)
                        .to(Course::Table, Course::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_course_survey_org_course")
                .table(CourseSurvey::Table)
                .col(CourseSurvey::OrgId)
                .col(CourseSurvey::CourseId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SurveyResponse::Table)
                .col(ColumnDef::new(SurveyResponse::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(SurveyResponse::OrgId).uuid().not_null())
                .col(ColumnDef::new(SurveyResponse::CourseId).uuid().not_null())
                .col(ColumnDef::new(SurveyResponse::NominationId).uuid().not_null())
                .col(ColumnDef::new(SurveyResponse::Answers).text().not_null())
                .col(ColumnDef::new(SurveyResponse::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_survey_response_nomination")
                        .from(SurveyResponse::Table, SurveyResponse::NominationId)
                        .to(Nomination::Table, Nomination::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        // Once each: one response per trainee of the course.
        m.create_index(
            Index::create()
                .name("ux_survey_response_org_nomination")
                .table(SurveyResponse::Table)
                .col(SurveyResponse::OrgId)
                .col(SurveyResponse::NominationId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_survey_response_org_course")
                .table(SurveyResponse::Table)
                .col(SurveyResponse::OrgId)
                .col(SurveyResponse::CourseId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SurveyResponse::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(CourseSurvey::Table).to_owned()).await
    }
}
