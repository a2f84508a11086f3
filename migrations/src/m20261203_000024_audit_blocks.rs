//! The audit chain by transaction: each write transaction's records form a block, hashed in
//! order as they are written (`block_id`, `pos`, and `hash` as the block's running hash), and at
//! commit the block takes the next numbers of its organisation's chain in one `audit_block` row
//! that links it to the head. Records are written once, when they are made; chaining a
//! transaction costs three statements whatever its size. Records chained one by one before this
//! migration (`seq`) stay as they are and come first in the chain.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    BlockId,
    Pos,
}

#[derive(DeriveIden)]
enum AuditBlock {
    Table,
    OrgId,
    Id,
    FirstSeq,
    Count,
    LastHash,
    Hash,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(AuditLog::Table)
                .add_column(ColumnDef::new(AuditLog::BlockId).uuid().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AuditLog::Table)
                .add_column(ColumnDef::new(AuditLog::Pos).integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_audit_log_block")
                .table(AuditLog::Table)
                .col(Alias::new("org_id"))
                .col(AuditLog::BlockId)
                .col(AuditLog::Pos)
                .unique()
                .to_owned(),
        )
        .await?;
        // Unchained now means in no block either: the old partial index would hold every new
        // record. (A new name: on SQLite the pool's next connection may not see the drop yet.)
        let conn = m.get_connection();
        conn.execute_unprepared("DROP INDEX ix_audit_log_unchained").await?;
        conn.execute_unprepared(
            "CREATE INDEX ix_audit_log_unplaced ON audit_log (org_id, id) WHERE seq IS NULL AND block_id IS NULL",
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditBlock::Table)
                .col(ColumnDef::new(AuditBlock::OrgId).uuid().not_null())
                .col(ColumnDef::new(AuditBlock::Id).uuid().not_null())
                .col(ColumnDef::new(AuditBlock::FirstSeq).big_integer().not_null())
                .col(ColumnDef::new(AuditBlock::Count).integer().not_null())
                .col(ColumnDef::new(AuditBlock::LastHash).string_len(64).not_null())
                .col(ColumnDef::new(AuditBlock::Hash).string_len(64).not_null())
                .col(ColumnDef::new(AuditBlock::At).timestamp_with_time_zone().not_null())
                // No foreign key, as for the log itself: append-only, kept whatever happens to
                // the rest.
                .primary_key(Index::create().col(AuditBlock::OrgId).col(AuditBlock::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_audit_block_first_seq")
                .table(AuditBlock::Table)
                .col(AuditBlock::OrgId)
                .col(AuditBlock::FirstSeq)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditBlock::Table).to_owned()).await?;
        let conn = m.get_connection();
        conn.execute_unprepared("DROP INDEX ix_audit_log_unplaced").await?;
        conn.execute_unprepared(
            "CREATE INDEX ix_audit_log_unchained ON audit_log (org_id, id) WHERE seq IS NULL",
        )
        .await?;
        m.drop_index(Index::drop().name("ux_audit_log_block").table(AuditLog::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(AuditLog::Table).drop_column(AuditLog::Pos).to_owned()).await?;
        m.alter_table(Table::alter().table(AuditLog::Table).drop_column(AuditLog::BlockId).to_owned()).await
    }
}
