//! Calendar feeds (iCalendar) staff subscribe to: each feed is reached by a secret token in its
//! URL (calendar clients send no login), kept only as its SHA-256 and revocable; a nomination
//! remembers that it once held a place, so a cancelled place stays in a feed as cancelled; and a
//! deleted session leaves a tombstone for the same reason.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Nomination {
    Table,
    HeldPlace,
    State,
}

#[derive(DeriveIden)]
enum CalendarFeed {
    Table,
    Id,
    OrgId,
    Scope,
    SubjectId,
    CreatedBy,
    TokenHash,
    CreatedAt,
    RevokedAt,
    RevokedBy,
}

#[derive(DeriveIden)]
enum SessionTombstone {
    Table,
    Id,
    OrgId,
    CourseId,
    StartsAt,
    EndsAt,
    Venue,
    OnlineUrl,
    Version,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Nomination::Table)
                .add_column(ColumnDef::new(Nomination::HeldPlace).boolean().not_null().default(false))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(Nomination::Table)
                .value(Nomination::HeldPlace, true)
                .and_where(Expr::col(Nomination::State).is_in(["selected", "notified", "completed"]))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CalendarFeed::Table)
                .col(ColumnDef::new(CalendarFeed::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(CalendarFeed::OrgId).uuid().not_null())
                // me | section | course
                .col(ColumnDef::new(CalendarFeed::Scope).string_len(16).not_null())
                .col(ColumnDef::new(CalendarFeed::SubjectId).uuid().not_null())
                .col(ColumnDef::new(CalendarFeed::CreatedBy).string_len(100).not_null())
                .col(ColumnDef::new(CalendarFeed::TokenHash).string_len(64).not_null().unique_key())
                .col(ColumnDef::new(CalendarFeed::CreatedAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(CalendarFeed::RevokedAt).timestamp_with_time_zone().null())
                .col(ColumnDef::new(CalendarFeed::RevokedBy).string_len(100).null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_calendar_feed_org_created_by")
                .table(CalendarFeed::Table)
                .col(CalendarFeed::OrgId)
                .col(CalendarFeed::CreatedBy)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SessionTombstone::Table)
                .col(ColumnDef::new(SessionTombstone::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(SessionTombstone::OrgId).uuid().not_null())
                .col(ColumnDef::new(SessionTombstone::CourseId).uuid().not_null())
                .col(ColumnDef::new(SessionTombstone::StartsAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(SessionTombstone::EndsAt).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(SessionTombstone::Venue).string_len(200).null())
                .col(ColumnDef::new(SessionTombstone::OnlineUrl).string_len(500).null())
                .col(ColumnDef::new(SessionTombstone::Version).integer().not_null())
                .col(ColumnDef::new(SessionTombstone::DeletedAt).timestamp_with_time_zone().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_session_tombstone_org_course")
                .table(SessionTombstone::Table)
                .col(SessionTombstone::OrgId)
                .col(SessionTombstone::CourseId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SessionTombstone::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(CalendarFeed::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Nomination::Table).drop_column(Nomination::HeldPlace).to_owned())
            .await
    }
}
