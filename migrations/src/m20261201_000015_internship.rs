//! 就業体験学生受入れ: the year's internship programme and the students recommended to it. A
//! student's personal data columns are nullable because an erasure empties them; the row stays
//! (university, host section, dates) as the record of what the city did.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InternshipProgramme {
    Table,
    Id,
    OrgId,
    FiscalYear,
    Title,
    StartsOn,
    EndsOn,
    Capacity,
    Notes,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InternshipStudent {
    Table,
    Id,
    OrgId,
    ProgrammeId,
    Name,
    NameKana,
    University,
    Faculty,
    YearOfStudy,
    Email,
    RecommendedOn,
    HostSectionId,
    HostedFrom,
    HostedTo,
    State,
    ErasedAt,
    ErasedBy,
    ErasureRequestedOn,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Section {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(InternshipProgramme::Table)
                .col(ColumnDef::new(InternshipProgramme::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(InternshipProgramme::OrgId).uuid().not_null())
                .col(ColumnDef::new(InternshipProgramme::FiscalYear).integer().not_null())
                .col(ColumnDef::new(InternshipProgramme::Title).string_len(200).not_null())
                .col(ColumnDef::new(InternshipProgramme::StartsOn).date().not_null())
                .col(ColumnDef::new(InternshipProgramme::EndsOn).date().not_null())
                .col(ColumnDef::new(InternshipProgramme::Capacity).integer().not_null())
                .col(ColumnDef::new(InternshipProgramme::Notes).text().null())
                .col(ColumnDef::new(InternshipProgramme::Version).integer().not_null().default(1))
                .col(ColumnDef::new(InternshipProgramme::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(InternshipProgramme::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_internship_programme_org_fy")
                .table(InternshipProgramme::Table)
                .col(InternshipProgramme::OrgId)
                .col(InternshipProgramme::FiscalYear)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(InternshipStudent::Table)
                .col(ColumnDef::new(InternshipStudent::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(InternshipStudent::OrgId).uuid().not_null())
                .col(ColumnDef::new(InternshipStudent::ProgrammeId).uuid().not_null())
                .col(ColumnDef::new(InternshipStudent::Name).string_len(100).null())
                .col(ColumnDef::new(InternshipStudent::NameKana).string_len(60).null())
                .col(ColumnDef::new(InternshipStudent::University).string_len(100).not_null())
                .col(ColumnDef::new(InternshipStudent::Faculty).string_len(100).null())
                .col(ColumnDef::new(InternshipStudent::YearOfStudy).integer().null())
                .col(ColumnDef::new(InternshipStudent::Email).string_len(254).null())
                .col(ColumnDef::new(InternshipStudent::RecommendedOn).date().not_null())
                .col(ColumnDef::new(InternshipStudent::HostSectionId).uuid().null())
                .col(ColumnDef::new(InternshipStudent::HostedFrom).date().null())
                .col(ColumnDef::new(InternshipStudent::HostedTo).date().null())
                .col(ColumnDef::new(InternshipStudent::State).string_len(16).not_null().check(
                    Expr::col(InternshipStudent::State).is_in([
                        "recommended",
                        "accepted",
                        "declined",
                        "withdrawn",
                    ]),
                ))
                .col(ColumnDef::new(InternshipStudent::ErasedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(InternshipStudent::ErasedBy).string_len(100).null())
                .col(ColumnDef::new(InternshipStudent::ErasureRequestedOn).date().null())
                .col(ColumnDef::new(InternshipStudent::Version).integer().not_null().default(1))
                .col(ColumnDef::new(InternshipStudent::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(InternshipStudent::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_internship_student_programme")
                        .from(InternshipStudent::Table, InternshipStudent::ProgrammeId)
                        .to(InternshipProgramme::Table, InternshipProgramme::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_internship_student_host_section")
                        .from(InternshipStudent::Table, InternshipStudent::HostSectionId)
                        .to(Section::Table, Section::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_internship_student_programme")
                .table(InternshipStudent::Table)
                .col(InternshipStudent::ProgrammeId)
                .to_owned(),
        )
        .await?;
        // A section head's list: the students their section hosts.
        m.create_index(
            Index::create()
                .name("ix_internship_student_host_section")
                .table(InternshipStudent::Table)
                .col(InternshipStudent::OrgId)
                .col(InternshipStudent::HostSectionId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(InternshipStudent::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(InternshipProgramme::Table).to_owned()).await
    }
}
