//! 監査ログの改ざん検知: each audit record gets its place in its organisation's hash chain
//! (`seq`, `hash`), and each organisation a chain head (the last number and hash), the row that
//! writers lock to append. Records written before this migration, and any written outside a
//! write transaction, wait in the `seq IS NULL` index until the next commit chains them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    Hash,
}

#[derive(DeriveIden)]
enum AuditChainHead {
    Table,
    OrgId,
    Seq,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds columns one at a time.
        m.alter_table(
            Table::alter()
                .table(AuditLog::Table)
                .add_column(ColumnDef::new(AuditLog::Seq).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AuditLog::Table)
                .add_column(ColumnDef::new(AuditLog::Hash).string_len(64).null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_audit_log_seq")
                .table(AuditLog::Table)
                .col(Alias::new("org_id"))
                .col(AuditLog::Seq)
                .unique()
                .to_owned(),
        )
        .await?;
        // Partial index (same SQL on both backends): the records still to be chained, found
        // without reading the log.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_audit_log_unchained ON audit_log (org_id, id) WHERE seq IS NULL",
            )
            .await?;
        m.create_table(
            Table::create()
                .table(AuditChainHead::Table)
                .col(ColumnDef::new(AuditChainHead::OrgId).uuid().not_null().primary_key())
                .col(ColumnDef::new(AuditChainHead::Seq).big_integer().not_null())
                .col(ColumnDef::new(AuditChainHead::Hash).string_len(64).not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditChainHead::Table).to_owned()).await?;
        m.get_connection().execute_unprepared("DROP INDEX ix_audit_log_unchained").await?;
        m.drop_index(Index::drop().name("ux_audit_log_seq").table(AuditLog::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(AuditLog::Table).drop_column(AuditLog::Hash).to_owned()).await?;
        m.alter_table(Table::alter().table(AuditLog::Table).drop_column(AuditLog::Seq).to_owned()).await
    }
}
