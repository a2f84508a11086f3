//! 自主研究グループ助成: study groups of a fiscal year, their plan, grant, statement of accounts
//! and report. Members are kept as a JSON array of employee ids (a group has a few).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StudyGroup {
    Table,
    Id,
    OrgId,
    FiscalYear,
    Name,
    Theme,
    RepresentativeId,
    Members,
    State,
    Plan,
    PlannedYen,
    ApprovedYen,
    SpentYen,
    Report,
    SettledYen,
    Comment,
    ApprovedBy,
    ApprovedAt,
    SettledBy,
    SettledAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StudyGroup::Table)
                .col(ColumnDef::new(StudyGroup::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(StudyGroup::OrgId).uuid().not_null())
                .col(ColumnDef::new(StudyGroup::FiscalYear).integer().not_null())
                .col(ColumnDef::new(StudyGroup::Name).string_len(100).not_null())
                .col(ColumnDef::new(StudyGroup::Theme).text().not_null())
                .col(ColumnDef::new(StudyGroup::RepresentativeId).uuid().not_null())
                .col(ColumnDef::new(StudyGroup::Members).text().not_null())
                .col(ColumnDef::new(StudyGroup::State).string_len(16).not_null().check(
                    Expr::col(StudyGroup::State).is_in([
                        "registered",
                        "planned",
                        "approved",
                        "reported",
                        "settled",
                        "rejected",
                    ]),
                ))
                // 活動計画書 and its budget.
                .col(ColumnDef::new(StudyGroup::Plan).text().null())
                .col(ColumnDef::new(StudyGroup::PlannedYen).big_integer().null())
                .col(ColumnDef::new(StudyGroup::ApprovedYen).big_integer().null())
                // 決算書 and 活動報告書.
                .col(ColumnDef::new(StudyGroup::SpentYen).big_integer().null())
                .col(ColumnDef::new(StudyGroup::Report).text().null())
                .col(ColumnDef::new(StudyGroup::SettledYen).big_integer().null())
                .col(ColumnDef::new(StudyGroup::Comment).text().null())
                .col(ColumnDef::new(StudyGroup::ApprovedBy).string_len(100).null())
                .col(ColumnDef::new(StudyGroup::ApprovedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(StudyGroup::SettledBy).string_len(100).null())
                .col(ColumnDef::new(StudyGroup::SettledAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(StudyGroup::Version).integer().not_null().default(1))
                .col(ColumnDef::new(StudyGroup::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(StudyGroup::UpdatedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_study_group_org_fy_name")
                .table(StudyGroup::Table)
                .col(StudyGroup::OrgId)
                .col(StudyGroup::FiscalYear)
                .col(StudyGroup::Name)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(StudyGroup::Table).to_owned()).await
    }
}
