//! A removed session's tombstone keeps the session's venue and online URL as they were: as long
//! as the session's own columns allow (500 and 2,000 characters), not shorter, so removing a
//! session with a long venue no longer fails on PostgreSQL. SQLite does not enforce lengths.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SessionTombstone {
    Table,
    Venue,
    OnlineUrl,
}

async fn lengths(m: &SchemaManager<'_>, venue: u32, url: u32) -> Result<(), DbErr> {
    if m.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    m.alter_table(
        Table::alter()
            .table(SessionTombstone::Table)
            .modify_column(ColumnDef::new(SessionTombstone::Venue).string_len(venue).null())
            .modify_column(ColumnDef::new(SessionTombstone::OnlineUrl).string_len(url).null())
            .to_owned(),
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        lengths(m, 500, 2000).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        lengths(m, 200, 500).await
    }
}
