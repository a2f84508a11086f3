//! 研修講座欠席届: notices of absence, late arrival or early leave, one live notice per trainee and
//! session. Withdrawn notices stay on record but free the session for a new one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Nomination {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CourseSession {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AbsenceNotice {
    Table,
    Id,
    OrgId,
    NominationId,
    SessionId,
    CourseId,
    EmployeeId,
    Kind,
    Reason,
    ArrivesAt,
    LeavesAt,
    State,
    Late,
    Comment,
    WrittenBy,
    SubmittedAt,
    ConfirmedBy,
    ConfirmedAt,
    ReceivedBy,
    ReceivedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AbsenceNotice::Table)
                .col(ColumnDef::new(AbsenceNotice::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(AbsenceNotice::OrgId).uuid().not_null())
                .col(ColumnDef::new(AbsenceNotice::NominationId).uuid().not_null())
                .col(ColumnDef::new(AbsenceNotice::SessionId).uuid().not_null())
                .col(ColumnDef::new(AbsenceNotice::CourseId).uuid().not_null())
                .col(ColumnDef::new(AbsenceNotice::EmployeeId).uuid().not_null())
                .col(
                    ColumnDef::new(AbsenceNotice::Kind).string_len(16).not_null().check(
                        Expr::col(AbsenceNotice::Kind).is_in(["absence", "late_arrival", "early_leave"]),
                    ),
                )
                .col(ColumnDef::new(AbsenceNotice::Reason).text().not_null())
                .col(ColumnDef::new(AbsenceNotice::ArrivesAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(AbsenceNotice::LeavesAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(AbsenceNotice::State).string_len(16).not_null().check(
                    Expr::col(AbsenceNotice::State).is_in([
                        "draft",
                        "submitted",
                        "confirmed",
                        "received",
                        "returned",
                        "withdrawn",
                    ]),
                ))
                // First submitted once the session had started (事後提出).
                .col(ColumnDef::new(AbsenceNotice::Late).boolean().not_null().default(false))
                // Why it was returned, for the writer to act on.
                .col(ColumnDef::new(AbsenceNotice::Comment).text().null())
                .col(ColumnDef::new(AbsenceNotice::WrittenBy).string_len(100).not_null())
                .col(ColumnDef::new(AbsenceNotice::SubmittedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(AbsenceNotice::ConfirmedBy).string_len(100).null())
                .col(ColumnDef::new(AbsenceNotice::ConfirmedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(AbsenceNotice::ReceivedBy).string_len(100).null())
                .col(ColumnDef::new(AbsenceNotice::ReceivedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(AbsenceNotice::Version).integer().not_null().default(1))
                .col(ColumnDef::new(AbsenceNotice::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(AbsenceNotice::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_absence_notice_nomination")
                        .from(AbsenceNotice::Table, AbsenceNotice::NominationId)
                        .to(Nomination::Table, Nomination::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_absence_notice_session")
                        .from(AbsenceNotice::Table, AbsenceNotice::SessionId)
                        .to(CourseSession::Table, CourseSession::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        // One live notice per trainee and session. A partial index, which both backends write the
        // same way; sea-query has no builder for its WHERE.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_absence_notice_live ON absence_notice (org_id, session_id, nomination_id) \
                 WHERE state <> 'withdrawn'",
            )
            .await?;
        // HR's list per session, and the trainee's own.
        m.create_index(
            Index::create()
                .name("ix_absence_notice_org_session")
                .table(AbsenceNotice::Table)
                .col(AbsenceNotice::OrgId)
                .col(AbsenceNotice::SessionId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_absence_notice_org_employee")
                .table(AbsenceNotice::Table)
                .col(AbsenceNotice::OrgId)
                .col(AbsenceNotice::EmployeeId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AbsenceNotice::Table).to_owned()).await
    }
}
