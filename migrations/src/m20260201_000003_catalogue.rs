//! The training catalogue: a plan per organisation and fiscal year, its courses and sessions.

use sea_orm_migration::prelude::*;

use crate::bytewise;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TrainingPlan {
    Table,
    Id,
    OrgId,
    FiscalYear,
    Title,
    Policy,
    FocusAreas,
    Status,
    PublishedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Course {
    Table,
    Id,
    OrgId,
    PlanId,
    FiscalYear,
    Category,
    CategoryRank,
    Number,
    Title,
    Purpose,
    Content,
    Audience,
    Rules,
    Routes,
    Timing,
    MonthsMask,
    Delivery,
    Institution,
    Headcount,
    Report,
    Notes,
    Pillar,
    Aims,
    WithinCourseId,
    Status,
    SearchKey,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CourseSession {
    Table,
    Id,
    OrgId,
    CourseId,
    StartsAt,
    EndsAt,
    Venue,
    OnlineUrl,
    Capacity,
    Lecturer,
    LecturerEmployeeId,
    Notes,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TrainingPlan::Table)
                .col(ColumnDef::new(TrainingPlan::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(TrainingPlan::OrgId).uuid().not_null())
                .col(ColumnDef::new(TrainingPlan::FiscalYear).integer().not_null())
                .col(ColumnDef::new(TrainingPlan::Title).string_len(200).not_null())
                .col(ColumnDef::new(TrainingPlan::Policy).text().null())
                .col(ColumnDef::new(TrainingPlan::FocusAreas).text().not_null())
                .col(
                    ColumnDef::new(TrainingPlan::Status)
                        .string_len(16)
                        .not_null()
                        .check(Expr::col(TrainingPlan::Status).is_in(["draft", "published"])),
                )
                .col(ColumnDef::new(TrainingPlan::PublishedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(TrainingPlan::Version).integer().not_null().default(1))
                .col(ColumnDef::new(TrainingPlan::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(TrainingPlan::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_training_plan_org")
                        .from(TrainingPlan::Table, TrainingPlan::OrgId)
                        .to(Organisation::Table, Organisation::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_training_plan_org_year")
                .table(TrainingPlan::Table)
                .col(TrainingPlan::OrgId)
                .col(TrainingPlan::FiscalYear)
                .unique()
                .to_owned(),
        )
        .await?;
        // The target of the courses' (org_id, plan_id) key: a course's plan is in its organisation.
        m.create_index(
            Index::create()
                .name("ux_training_plan_org_id")
                .table(TrainingPlan::Table)
                .col(TrainingPlan::OrgId)
                .col(TrainingPlan::Id)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Course::Table)
                .col(ColumnDef::new(Course::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Course::OrgId).uuid().not_null())
                .col(ColumnDef::new(Course::PlanId).uuid().not_null())
                .col(ColumnDef::new(Course::FiscalYear).integer().not_null())
                .col(ColumnDef::new(Course::Category).string_len(20).not_null().check(
                    Expr::col(Course::Category).is_in([
                        "hierarchical",
                        "thematic",
                        "awareness",
                        "dispatch",
                        "self_development",
                        "other",
                    ]),
                ))
                // The category's place in the plan (階層別 first), for ordering the catalogue.
                .col(ColumnDef::new(Course::CategoryRank).integer().not_null())
                .col(
                    ColumnDef::new(Course::Number)
                        .integer()
                        .not_null()
                        .check(Expr::col(Course::Number).gte(1)),
                )
                .col(bytewise(m, ColumnDef::new(Course::Title).string_len(200).not_null()))
                .col(ColumnDef::new(Course::Purpose).text().null())
                .col(ColumnDef::new(Course::Content).text().null())
                .col(ColumnDef::new(Course::Audience).text().null())
                // Audience rules as JSON, evaluated in the domain crate.
                .col(ColumnDef::new(Course::Rules).text().not_null())
                // The rules' routes as a JSON array, filtered with LIKE '%"route"%'.
                .col(ColumnDef::new(Course::Routes).text().not_null())
                .col(ColumnDef::new(Course::Timing).text().not_null())
                // Bit m set when the course runs in calendar month m (1–12): a month filter is
                // one bitwise AND on every backend.
                .col(ColumnDef::new(Course::MonthsMask).integer().not_null())
                .col(
                    ColumnDef::new(Course::Delivery)
                        .string_len(16)
                        .not_null()
                        .check(Expr::col(Course::Delivery).is_in(["classroom", "e_learning", "dispatch"])),
                )
                .col(bytewise(m, ColumnDef::new(Course::Institution).string_len(100).null()))
                .col(
                    ColumnDef::new(Course::Headcount)
                        .integer()
                        .null()
                        .check(Expr::col(Course::Headcount).gte(0)),
                )
                .col(ColumnDef::new(Course::Report).text().not_null())
                .col(ColumnDef::new(Course::Notes).text().null())
                .col(
                    ColumnDef::new(Course::Pillar)
                        .string_len(20)
                        .not_null()
                        .check(Expr::col(Course::Pillar).is_in(["ojt", "off_jt", "self_development"])),
                )
                .col(ColumnDef::new(Course::Aims).text().not_null())
                .col(ColumnDef::new(Course::WithinCourseId).uuid().null())
                .col(
                    ColumnDef::new(Course::Status)
                        .string_len(16)
                        .not_null()
                        .check(Expr::col(Course::Status).is_in(["draft", "published", "cancelled"])),
                )
                .col(ColumnDef::new(Course::SearchKey).text().not_null())
                .col(ColumnDef::new(Course::Version).integer().not_null().default(1))
                .col(ColumnDef::new(Course::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Course::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_course_plan")
                        .from(Course::Table, (Course::OrgId, Course::PlanId))
                        .to(TrainingPlan::Table, (TrainingPlan::OrgId, TrainingPlan::Id))
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        // Idempotent imports key on (fiscal year, category, number); the same index orders the
        // catalogue and serves its keyset pagination.
        m.create_index(
            Index::create()
                .name("ux_course_org_year_category_number")
                .table(Course::Table)
                .col(Course::OrgId)
                .col(Course::FiscalYear)
                .col(Course::Category)
                .col(Course::Number)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_course_org_id")
                .table(Course::Table)
                .col(Course::OrgId)
                .col(Course::Id)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CourseSession::Table)
                .col(ColumnDef::new(CourseSession::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(CourseSession::OrgId).uuid().not_null())
                .col(ColumnDef::new(CourseSession::CourseId).uuid().not_null())
                .col(ColumnDef::new(CourseSession::StartsAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(CourseSession::EndsAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(CourseSession::Venue).string_len(500).null())
                .col(ColumnDef::new(CourseSession::OnlineUrl).string_len(2000).null())
                .col(
                    ColumnDef::new(CourseSession::Capacity)
                        .integer()
                        .null()
                        .check(Expr::col(CourseSession::Capacity).gte(0)),
                )
                .col(ColumnDef::new(CourseSession::Lecturer).text().null())
                .col(ColumnDef::new(CourseSession::LecturerEmployeeId).uuid().null())
                .col(ColumnDef::new(CourseSession::Notes).text().null())
                .col(ColumnDef::new(CourseSession::Version).integer().not_null().default(1))
                .col(ColumnDef::new(CourseSession::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(CourseSession::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_course_session_course")
                        .from(CourseSession::Table, (CourseSession::OrgId, CourseSession::CourseId))
                        .to(Course::Table, (Course::OrgId, Course::Id))
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_course_session_org_course_start")
                .table(CourseSession::Table)
                .col(CourseSession::OrgId)
                .col(CourseSession::CourseId)
                .col(CourseSession::StartsAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CourseSession::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Course::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(TrainingPlan::Table).to_owned()).await
    }
}
