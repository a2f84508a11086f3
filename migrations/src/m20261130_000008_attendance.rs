//! 出欠: one attendance record per trainee and session, and when a nomination moved up from the
//! waiting list (sessions before that do not count for the trainee).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Nomination {
    Table,
    Id,
    PlacedAt,
}

#[derive(DeriveIden)]
enum CourseSession {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Attendance {
    Table,
    Id,
    OrgId,
    SessionId,
    CourseId,
    NominationId,
    EmployeeId,
    Status,
    ArrivedAt,
    LeftAt,
    Note,
    Source,
    RecordedBy,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Set only when a waiting nomination gets a place; null means from the start.
        m.alter_table(
            Table::alter()
                .table(Nomination::Table)
                .add_column(ColumnDef::new(Nomination::PlacedAt).timestamp_with_time_zone().null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Attendance::Table)
                .col(ColumnDef::new(Attendance::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Attendance::OrgId).uuid().not_null())
                .col(ColumnDef::new(Attendance::SessionId).uuid().not_null())
                .col(ColumnDef::new(Attendance::CourseId).uuid().not_null())
                .col(ColumnDef::new(Attendance::NominationId).uuid().not_null())
                .col(ColumnDef::new(Attendance::EmployeeId).uuid().not_null())
                .col(
                    ColumnDef::new(Attendance::Status).string_len(16).not_null().check(
                        Expr::col(Attendance::Status).is_in(["present", "late", "left_early", "absent"]),
                    ),
                )
                .col(ColumnDef::new(Attendance::ArrivedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Attendance::LeftAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Attendance::Note).text().null())
                // sheet (HR's sign-in sheet), import (a CSV of one) or check_in (the trainee's phone).
                .col(
                    ColumnDef::new(Attendance::Source)
                        .string_len(16)
                        .not_null()
                        .check(Expr::col(Attendance::Source).is_in(["sheet", "import", "check_in"])),
                )
                .col(ColumnDef::new(Attendance::RecordedBy).string_len(100).not_null())
                .col(ColumnDef::new(Attendance::Version).integer().not_null().default(1))
                .col(ColumnDef::new(Attendance::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Attendance::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_attendance_nomination")
                        .from(Attendance::Table, Attendance::NominationId)
                        .to(Nomination::Table, Nomination::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_attendance_session")
                        .from(Attendance::Table, Attendance::SessionId)
                        .to(CourseSession::Table, CourseSession::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_attendance_org_session_nomination")
                .table(Attendance::Table)
                .col(Attendance::OrgId)
                .col(Attendance::SessionId)
                .col(Attendance::NominationId)
                .unique()
                .to_owned(),
        )
        .await?;
        // A trainee's records across sessions, for completion.
        m.create_index(
            Index::create()
                .name("ix_attendance_org_nomination")
                .table(Attendance::Table)
                .col(Attendance::OrgId)
                .col(Attendance::NominationId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Attendance::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Nomination::Table).drop_column(Nomination::PlacedAt).to_owned())
            .await
    }
}
