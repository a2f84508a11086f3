//! 通信教育講座助成: the year's programme (budget and application window), its catalogue of
//! correspondence courses, applications, and the proof of completion each may carry. Money is
//! whole yen in BIGINT columns.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SubsidyProgramme {
    Table,
    Id,
    OrgId,
    FiscalYear,
    Programme,
    BudgetYen,
    ApplicationOpens,
    ApplicationCloses,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CorrespondenceCourse {
    Table,
    Id,
    OrgId,
    FiscalYear,
    Provider,
    Title,
    Field,
    TuitionYen,
    Months,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SubsidyApplication {
    Table,
    Id,
    OrgId,
    FiscalYear,
    EmployeeId,
    CourseId,
    TuitionYen,
    State,
    Reason,
    ApprovedYen,
    PaidTuitionYen,
    SubsidyYen,
    Comment,
    ConfirmedBy,
    ConfirmedAt,
    ApprovedBy,
    ApprovedAt,
    ReportedAt,
    VerifiedBy,
    VerifiedAt,
    PaidAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SubsidyDocument {
    Table,
    Id,
    OrgId,
    ApplicationId,
    ContentType,
    SizeBytes,
    Sha256,
    Content,
    UploadedBy,
    UploadedAt,
}

fn stamps(t: &mut TableCreateStatement, created: impl IntoIden, updated: impl IntoIden) {
    t.col(ColumnDef::new(created).timestamp_with_time_zone().not_null())
        .col(ColumnDef::new(updated).timestamp_with_time_zone().not_null());
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(SubsidyProgramme::Table)
            .col(ColumnDef::new(SubsidyProgramme::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(SubsidyProgramme::OrgId).uuid().not_null())
            .col(ColumnDef::new(SubsidyProgramme::FiscalYear).integer().not_null())
            .col(
                ColumnDef::new(SubsidyProgramme::Programme)
                    .string_len(32)
                    .not_null()
                    .check(Expr::col(SubsidyProgramme::Programme).is_in(["correspondence", "study_group"])),
            )
            .col(
                ColumnDef::new(SubsidyProgramme::BudgetYen)
                    .big_integer()
                    .not_null()
                    .check(Expr::col(SubsidyProgramme::BudgetYen).gte(0)),
            )
            .col(ColumnDef::new(SubsidyProgramme::ApplicationOpens).date().null())
            .col(ColumnDef::new(SubsidyProgramme::ApplicationCloses).date().null())
            .col(ColumnDef::new(SubsidyProgramme::Version).integer().not_null().default(1));
        stamps(&mut t, SubsidyProgramme::CreatedAt, SubsidyProgramme::UpdatedAt);
        m.create_table(t.to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ux_subsidy_programme_org_fy_programme")
                .table(SubsidyProgramme::Table)
                .col(SubsidyProgramme::OrgId)
                .col(SubsidyProgramme::FiscalYear)
                .col(SubsidyProgramme::Programme)
                .unique()
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(CorrespondenceCourse::Table)
            .col(ColumnDef::new(CorrespondenceCourse::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(CorrespondenceCourse::OrgId).uuid().not_null())
            .col(ColumnDef::new(CorrespondenceCourse::FiscalYear).integer().not_null())
            .col(ColumnDef::new(CorrespondenceCourse::Provider).string_len(100).not_null())
            .col(ColumnDef::new(CorrespondenceCourse::Title).string_len(200).not_null())
            .col(ColumnDef::new(CorrespondenceCourse::Field).string_len(16).not_null())
            .col(
                ColumnDef::new(CorrespondenceCourse::TuitionYen)
                    .big_integer()
                    .not_null()
                    .check(Expr::col(CorrespondenceCourse::TuitionYen).gt(0)),
            )
            .col(ColumnDef::new(CorrespondenceCourse::Months).integer().not_null());
        stamps(&mut t, CorrespondenceCourse::CreatedAt, CorrespondenceCourse::UpdatedAt);
        m.create_table(t.to_owned()).await?;
        m.create_index(
            Index::create()
                .name("ux_correspondence_course_org_fy_provider_title")
                .table(CorrespondenceCourse::Table)
                .col(CorrespondenceCourse::OrgId)
                .col(CorrespondenceCourse::FiscalYear)
                .col(CorrespondenceCourse::Provider)
                .col(CorrespondenceCourse::Title)
                .unique()
                .to_owned(),
        )
        .await?;

        let mut t = Table::create();
        t.table(SubsidyApplication::Table)
            .col(ColumnDef::new(SubsidyApplication::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(SubsidyApplication::OrgId).uuid().not_null())
            .col(ColumnDef::new(SubsidyApplication::FiscalYear).integer().not_null())
            .col(ColumnDef::new(SubsidyApplication::EmployeeId).uuid().not_null())
            .col(ColumnDef::new(SubsidyApplication::CourseId).uuid().not_null())
            .col(ColumnDef::new(SubsidyApplication::TuitionYen).big_integer().not_null())
            .col(ColumnDef::new(SubsidyApplication::State).string_len(16).not_null().check(
                Expr::col(SubsidyApplication::State).is_in([
                    "applied",
                    "confirmed",
                    "approved",
                    "reported",
                    "verified",
                    "paid",
                    "rejected",
                    "withdrawn",
                    "not_completed",
                ]),
            ))
            .col(ColumnDef::new(SubsidyApplication::Reason).text().null())
            .col(ColumnDef::new(SubsidyApplication::ApprovedYen).big_integer().null())
            .col(ColumnDef::new(SubsidyApplication::PaidTuitionYen).big_integer().null())
            .col(ColumnDef::new(SubsidyApplication::SubsidyYen).big_integer().null())
            .col(ColumnDef::new(SubsidyApplication::Comment).text().null())
            .col(ColumnDef::new(SubsidyApplication::ConfirmedBy).string_len(100).null())
            .col(ColumnDef::new(SubsidyApplication::ConfirmedAt).timestamp_with_time_zone().null())
            .col(ColumnDef::new(SubsidyApplication::ApprovedBy).string_len(100).null())
            .col(ColumnDef::new(SubsidyApplication::ApprovedAt).timestamp_with_time_zone().null())
            .col(ColumnDef::new(SubsidyApplication::ReportedAt).timestamp_with_time_zone().null())
            .col(ColumnDef::new(SubsidyApplication::VerifiedBy).string_len(100).null())
            .col(ColumnDef::new(SubsidyApplication::VerifiedAt).timestamp_with_time_zone().null())
            .col(ColumnDef::new(SubsidyApplication::PaidAt).timestamp_with_time_zone().null())
            .col(ColumnDef::new(SubsidyApplication::Version).integer().not_null().default(1))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_subsidy_application_course")
                    .from(SubsidyApplication::Table, SubsidyApplication::CourseId)
                    .to(CorrespondenceCourse::Table, CorrespondenceCourse::Id)
                    .on_delete(ForeignKeyAction::Restrict),
            );
        stamps(&mut t, SubsidyApplication::CreatedAt, SubsidyApplication::UpdatedAt);
        m.create_table(t.to_owned()).await?;
        // One live application per employee and course; refused or withdrawn ones stay on record.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_subsidy_application_live ON subsidy_application \
                 (org_id, employee_id, course_id) WHERE state NOT IN ('rejected', 'withdrawn')",
            )
            .await?;
        m.create_index(
            Index::create()
                .name("ix_subsidy_application_org_fy")
                .table(SubsidyApplication::Table)
                .col(SubsidyApplication::OrgId)
                .col(SubsidyApplication::FiscalYear)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SubsidyDocument::Table)
                .col(ColumnDef::new(SubsidyDocument::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(SubsidyDocument::OrgId).uuid().not_null())
                .col(ColumnDef::new(SubsidyDocument::ApplicationId).uuid().not_null())
                .col(ColumnDef::new(SubsidyDocument::ContentType).string_len(64).not_null())
                .col(ColumnDef::new(SubsidyDocument::SizeBytes).big_integer().not_null())
                .col(ColumnDef::new(SubsidyDocument::Sha256).string_len(64).not_null())
                .col(ColumnDef::new(SubsidyDocument::Content).blob().not_null())
                .col(ColumnDef::new(SubsidyDocument::UploadedBy).string_len(100).not_null())
                .col(ColumnDef::new(SubsidyDocument::UploadedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_subsidy_document_application")
                        .from(SubsidyDocument::Table, SubsidyDocument::ApplicationId)
                        .to(SubsidyApplication::Table, SubsidyApplication::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_subsidy_document_org_application")
                .table(SubsidyDocument::Table)
                .col(SubsidyDocument::OrgId)
                .col(SubsidyDocument::ApplicationId)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            SubsidyDocument::Table.into_iden(),
            SubsidyApplication::Table.into_iden(),
            CorrespondenceCourse::Table.into_iden(),
            SubsidyProgramme::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
