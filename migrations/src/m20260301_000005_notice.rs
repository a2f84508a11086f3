//! Training notices (研修通知): an outbox of what each trainee and their section head are told.
//! Rows are written in the same transaction as the nomination's move to `notified`, and stay
//! until a reader (the groupware portal, a mail job) marks them delivered: nothing is lost when
//! delivery fails.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Nomination {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Notice {
    Table,
    Id,
    OrgId,
    NominationId,
    CourseId,
    RecipientEmployeeId,
    RecipientRole,
    Subject,
    Body,
    DeliveredAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Notice::Table)
                .col(ColumnDef::new(Notice::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Notice::OrgId).uuid().not_null())
                .col(ColumnDef::new(Notice::NominationId).uuid().not_null())
                .col(ColumnDef::new(Notice::CourseId).uuid().not_null())
                .col(ColumnDef::new(Notice::RecipientEmployeeId).uuid().not_null())
                .col(
                    ColumnDef::new(Notice::RecipientRole)
                        .string_len(16)
                        .not_null()
                        .check(Expr::col(Notice::RecipientRole).is_in(["trainee", "section_head"])),
                )
                .col(ColumnDef::new(Notice::Subject).string_len(300).not_null())
                // JSON: the course, its sessions (when, where), what to prepare.
                .col(ColumnDef::new(Notice::Body).text().not_null())
                .col(ColumnDef::new(Notice::DeliveredAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(Notice::CreatedAt).timestamp_with_time_zone().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_notice_nomination")
                        .from(Notice::Table, Notice::NominationId)
                        .to(Nomination::Table, Nomination::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        // A recipient's notices, newest first.
        m.create_index(
            Index::create()
                .name("ix_notice_org_recipient")
                .table(Notice::Table)
                .col(Notice::OrgId)
                .col(Notice::RecipientEmployeeId)
                .col(Notice::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Notice::Table).to_owned()).await
    }
}
