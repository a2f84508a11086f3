//! Nominations (選考): an employee on a course by a route, moving through the selection states.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Course {
    Table,
    OrgId,
    Id,
}

#[derive(DeriveIden)]
enum Employee {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Nomination {
    Table,
    Id,
    OrgId,
    CourseId,
    SessionId,
    EmployeeId,
    Route,
    State,
    Reason,
    ProposedBy,
    DecidedBy,
    DecidedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Nomination::Table)
                .col(ColumnDef::new(Nomination::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Nomination::OrgId).uuid().not_null())
                .col(ColumnDef::new(Nomination::CourseId).uuid().not_null())
                .col(ColumnDef::new(Nomination::SessionId).uuid().null())
                .col(ColumnDef::new(Nomination::EmployeeId).uuid().not_null())
                .col(ColumnDef::new(Nomination::Route).string_len(16).not_null().check(
                    Expr::col(Nomination::Route).is_in(["designation", "recommendation", "application"]),
                ))
                .col(ColumnDef::new(Nomination::State).string_len(16).not_null().check(
                    Expr::col(Nomination::State).is_in([
                        "proposed",
                        "confirmed",
                        "rejected",
                        "selected",
                        "waitlisted",
                        "declined",
                        "notified",
                        "cancelled",
                        "completed",
                    ]),
                ))
                // Why the section head recommends, or the applicant applies.
                .col(ColumnDef::new(Nomination::Reason).text().null())
                .col(ColumnDef::new(Nomination::ProposedBy).string_len(100).not_null())
                .col(ColumnDef::new(Nomination::DecidedBy).string_len(100).null())
                .col(ColumnDef::new(Nomination::DecidedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Nomination::Version).integer().not_null().default(1))
                .col(ColumnDef::new(Nomination::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(Nomination::UpdatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_nomination_course")
                        .from(Nomination::Table, (Nomination::OrgId, Nomination::CourseId))
                        .to(Course::Table, (Course::OrgId, Course::Id))
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_nomination_employee")
                        .from(Nomination::Table, Nomination::EmployeeId)
                        .to(Employee::Table, Employee::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        // One nomination per employee and course, whatever its state: a cancelled or declined
        // nomination is not silently proposed again by a designation rerun.
        m.create_index(
            Index::create()
                .name("ux_nomination_org_course_employee")
                .table(Nomination::Table)
                .col(Nomination::OrgId)
                .col(Nomination::CourseId)
                .col(Nomination::EmployeeId)
                .unique()
                .to_owned(),
        )
        .await?;
        // An employee's training history across courses and years.
        m.create_index(
            Index::create()
                .name("ix_nomination_org_employee")
                .table(Nomination::Table)
                .col(Nomination::OrgId)
                .col(Nomination::EmployeeId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Nomination::Table).to_owned()).await
    }
}
