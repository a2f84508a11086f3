//! Self check-in: per session, whether the training office has opened it and the secret its
//! rotating codes are derived from.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CourseSession {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SessionCheckIn {
    Table,
    Id,
    OrgId,
    SessionId,
    CourseId,
    /// Hex of 32 random bytes; never logged or returned.
    Secret,
    OpenedBy,
    OpenedAt,
    ClosedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SessionCheckIn::Table)
                .col(ColumnDef::new(SessionCheckIn::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(SessionCheckIn::OrgId).uuid().not_null())
                .col(ColumnDef::new(SessionCheckIn::SessionId).uuid().not_null())
                .col(ColumnDef::new(SessionCheckIn::CourseId).uuid().not_null())
                .col(ColumnDef::new(SessionCheckIn::Secret).string_len(64).not_null())
                .col(ColumnDef::new(SessionCheckIn::OpenedBy).string_len(100).not_null())
                .col(ColumnDef::new(SessionCheckIn::OpenedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(SessionCheckIn::ClosedAt).timestamp_with_time_zone().null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_session_check_in_session")
                        .from(SessionCheckIn::Table, SessionCheckIn::SessionId)
                        .to(CourseSession::Table, CourseSession::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_session_check_in_org_session")
                .table(SessionCheckIn::Table)
                .col(SessionCheckIn::OrgId)
                .col(SessionCheckIn::SessionId)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SessionCheckIn::Table).to_owned()).await
    }
}
